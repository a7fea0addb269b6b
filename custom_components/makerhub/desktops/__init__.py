"""Desktops: a virtual Linux desktop per project, run by the desktops service."""
