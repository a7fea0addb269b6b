"""Whether Home Assistant's previous run ended cleanly, read from the run marker.

Nothing can report its own death, so Home Assistant's is found at its next start: while
Makerhub runs, a marker records when the run started and, every :data:`ALIVE_PERIOD`,
that it is still alive; a clean stop marks it clean. A marker found unclean at start says
that the previous run ended by a power cut or a crash, when (its last alive stamp, at most
a period early) and so for how long Home Assistant was down.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Any, Final

ALIVE_PERIOD: Final = 60.0
"""Seconds between alive stamps: how precisely the time of an unclean stop is known."""


class MarkerError(ValueError):
    """The run marker is damaged (its reason says how)."""


@dataclass(frozen=True, slots=True)
class RunMarker:
    """One run of Home Assistant: when it started, when it was last alive, whether it
    stopped cleanly (times in UTC seconds)."""

    started: float
    alive: float
    clean: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Return the marker as stored."""
        return {"started": self.started, "alive": self.alive, "clean": self.clean}


def _time(data: dict[str, Any], key: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MarkerError(f"{key!r} is not a time: {value!r}")
    if not math.isfinite(value) or value < 0:
        raise MarkerError(f"{key!r} is not a time: {value!r}")
    return float(value)


def parse_marker(data: object) -> RunMarker:
    """Return the stored marker (:class:`MarkerError` when it is damaged)."""
    if not isinstance(data, dict):
        raise MarkerError(f"not a mapping: {type(data).__name__}")
    started = _time(data, "started")
    alive = _time(data, "alive")
    clean = data.get("clean")
    if not isinstance(clean, bool):
        raise MarkerError(f"'clean' is not true or false: {clean!r}")
    if alive < started:
        raise MarkerError("last alive before its start")
    return RunMarker(started, alive, clean)


def unclean_stop(previous: RunMarker | None, now: float) -> float | None:
    """Return when the previous run died (its last alive stamp; never after ``now``,
    should the clock have been set back), None when it stopped cleanly or there was
    none."""
    if previous is None or previous.clean:
        return None
    return min(previous.alive, now)
