"""Local development: scripts/develop runs :mod:`dev.devserver`."""
