"""Free TCP ports on 127.0.0.1 for the real services the tests and the dev server start."""

from __future__ import annotations

import socket
import sys


def free_port() -> int:
    """Return a port nothing listens on right now.

    Under pytest, uses the real socket class: the Home Assistant harness blocks socket
    creation (``pytest_socket``) outside tests that ask for ``socket_enabled``, and
    fixtures pick ports before that applies.
    """
    guard = sys.modules.get("pytest_socket")
    real_socket = getattr(guard, "_true_socket", socket.socket)
    with real_socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
