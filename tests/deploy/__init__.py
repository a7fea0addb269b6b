"""Tests of ``deploy/`` and ``scripts/install``: the systemd units and the install command."""
