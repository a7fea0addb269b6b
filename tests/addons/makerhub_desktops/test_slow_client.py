"""A client that stops reading must not freeze the desktop for the others.

Xvnc (TigerVNC 1.12) waits up to ``ClientWaitTimeMillis`` for a client whose socket is
full, and meanwhile serves nobody. The service's proxy is that client for Xvnc: it must
keep reading even when one of its WebSocket clients does not.
"""

from __future__ import annotations

from pathlib import Path
import time

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
