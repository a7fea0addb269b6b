"""Byte-identical copies of the integration's core modules (see README.md here)."""
