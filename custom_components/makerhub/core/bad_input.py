"""Counting and rate-limited reporting of messages the hub refuses."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
import logging
import time

from .errors import BadInputReason

LOG_INTERVAL = 60.0
"""At most one log line per reason in this many seconds; the rest are counted."""


@dataclass(slots=True)
class _Window:
    last_logged: float
    suppressed: int = 0


@dataclass
class BadInputTracker:
    """Counts refused messages by reason and unit, and logs them without flooding."""

    logger: logging.Logger
    interval: float = LOG_INTERVAL
    by_reason: Counter[str] = field(default_factory=Counter)
    by_unit: Counter[str] = field(default_factory=Counter)
    last: dict[str, str] = field(default_factory=dict)
    """The newest message per reason, for diagnostics."""
    _windows: dict[str, _Window] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Return how many messages were refused in all."""
        return sum(self.by_reason.values())

    def record(
        self, reason: BadInputReason, message: str, topic: str, unit: str | None = None
    ) -> None:
        """Count one refused message and log it unless its reason logged recently."""
        self.by_reason[reason] += 1
        if unit is not None:
            self.by_unit[unit] += 1
        detail = f"{topic}: {message}"
        self.last[reason] = detail
        now = time.monotonic()
        window = self._windows.get(reason)
        if window is not None and now - window.last_logged < self.interval:
            window.suppressed += 1
            return
        suppressed = window.suppressed if window is not None else 0
        self._windows[reason] = _Window(last_logged=now)
        self.logger.warning(
            "Dropped a message (%s) on %s%s",
            reason.value,
            detail,
            f" ({suppressed} more of this kind since the last report)" if suppressed else "",
        )

    def as_dict(self) -> dict[str, object]:
        """Return the counters for diagnostics."""
        return {
            "total": self.total,
            "by_reason": dict(self.by_reason),
            "by_unit": dict(self.by_unit),
            "last": dict(self.last),
        }
