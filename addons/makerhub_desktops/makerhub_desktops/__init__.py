"""Makerhub desktops: one virtual Linux desktop per project (Xvnc, Openbox, noVNC)."""

__version__ = "0.1.0"
