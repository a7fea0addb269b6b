"""A client that stops reading must not freeze the desktop for the others; a handshake that
never comes is reported with what the desktop was doing.

Xvnc (TigerVNC 1.12) waits up to ``ClientWaitTimeMillis`` for a client whose socket is
full, and meanwhile serves nobody. The service's proxy is that client for Xvnc: it must
keep reading even when one of its WebSocket clients does not.
"""

from __future__ import annotations

import os
from pathlib import Path
import signal
import time

import pytest

from .conftest import Service


async def test_a_client_that_does_not_read_does_not_stall_a_new_viewer(
    service: Service, repo: Path
) -> None:
    await service.start("alpha", f"file://{repo}")
    stalled = await service.rfb("alpha", "controller")
    # Its network stalls: nothing more is read from its socket (the kernel's buffers fill).
    transport = stalled.ws._conn.transport  # type: ignore[union-attr]
    transport.pause_reading()
    for _ in range(50):  # 50 full raw frames (4 MB each) that it never reads
        await stalled.request_update()
    began = time.monotonic()
    viewer = await service.rfb("alpha", "viewer")  # its handshake times out after 10 s
    frame = await viewer.frame(timeout=10)
    assert len(frame) == 1280 * 800 * 4
    assert time.monotonic() - began < 10
    transport.resume_reading()  # it may close quickly now


async def test_a_handshake_that_never_comes_says_what_the_desktop_was_doing(
    service: Service, repo: Path
) -> None:
    """The oddity once seen (a viewer counted, no RFB bytes in 10 s) now fails with the
    desktop's process states; here it is made on purpose with a stopped Xvnc."""
    await service.start("alpha", f"file://{repo}")
    desktop = service.manager.get("alpha")
    xvnc = desktop.record.xvnc_pid
    assert xvnc is not None
    os.kill(xvnc, signal.SIGSTOP)
    try:
        with pytest.raises(AssertionError) as failure:
            await service.rfb("alpha", "viewer")
    finally:
        os.kill(xvnc, signal.SIGCONT)
    message = str(failure.value)
    assert message.startswith("no RFB handshake from alpha: state running on :")
    assert f"Xvnc[{xvnc}]=T" in message
    assert "socket present" in message
    assert "1 viewer(s)" in message  # counted in, as in the oddity
