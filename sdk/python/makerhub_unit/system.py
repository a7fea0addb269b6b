"""What a CPython unit can say about itself in its ``sys/state`` report."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
import socket
import time
from typing import Any, Final

_MEMINFO: Final = Path("/proc/meminfo")
_STATM: Final = Path("/proc/self/statm")
_CPU_FREQ: Final = Path("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq")
_CACHE_SECONDS: Final = 1.0


class SystemProbe:
    """Reads memory and CPU figures, at most once a second for every unit of a process."""

    def __init__(self) -> None:
        """Start with nothing read."""
        self._read_at = -_CACHE_SECONDS
        self._figures: dict[str, int] = {}

    def figures(self) -> dict[str, int]:
        """Return ``mem_free``, ``mem_alloc`` and ``freq`` where the system tells them."""
        now = time.monotonic()
        if now - self._read_at >= _CACHE_SECONDS:
            self._figures = _read_figures()
            self._read_at = now
        return dict(self._figures)


def _read_figures() -> dict[str, int]:
    figures: dict[str, int] = {}
    try:
        for line in _MEMINFO.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                figures["mem_free"] = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError, IndexError):
        pass
    try:
        resident_pages = int(_STATM.read_text().split()[1])
        figures["mem_alloc"] = resident_pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    with contextlib.suppress(OSError, ValueError):
        figures["freq"] = int(_CPU_FREQ.read_text().strip()) * 1000
    return figures


def socket_ip(sock: Any) -> str | None:
    """Return the local address a connected socket uses: the unit's IP as the broker sees it."""
    if not isinstance(sock, socket.socket):
        return None
    try:
        address = sock.getsockname()
    except OSError:
        return None
    return str(address[0]) if isinstance(address, tuple) else None


PROBE: Final = SystemProbe()
"""One probe per process: a fleet of simulated units shares its readings."""
