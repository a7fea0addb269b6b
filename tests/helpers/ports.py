"""Free TCP ports on 127.0.0.1 for the real services tests start."""

from __future__ import annotations

import socket

import pytest_socket


def free_port() -> int:
    """Return a port nothing listens on right now.

    Uses the real socket class: the Home Assistant harness blocks socket creation outside
    tests that ask for ``socket_enabled``, and fixtures pick ports before that applies.
    """
    real_socket = getattr(pytest_socket, "_true_socket", socket.socket)
    with real_socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
