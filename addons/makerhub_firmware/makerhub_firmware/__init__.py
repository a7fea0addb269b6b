"""Makerhub firmware service: git repositories of unit firmware, synced, validated, packaged.

Runs as a plain process (``python -m makerhub_firmware``) and as a Home Assistant add-on.
"""
