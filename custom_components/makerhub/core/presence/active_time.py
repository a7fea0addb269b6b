"""How long the space was active, per week and per month: an accumulating counter.

Pure Python (no Home Assistant imports). The caller tells it whether the space is active
at each change and at regular checkpoints, with the time from its (injectable) clock;
the time between is added to the week's and the month's total, split at their
boundaries. Only the totals are stored: an interval still running when the process dies
counts up to the last checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from ..periods import (
    month_start,
    next_month_start,
    next_week_start,
    seconds_between,
    week_start,
)

KEEP_WEEKS: Final = 10
KEEP_MONTHS: Final = 13


def week_key(moment: datetime) -> str:
    """Return the stored key of the week that holds ``moment`` (its Monday)."""
    return week_start(moment).date().isoformat()


def month_key(moment: datetime) -> str:
    """Return the stored key of the month that holds ``moment``."""
    return f"{moment.year:04d}-{moment.month:02d}"


class ActiveTime:
    """Seconds the space was active, per week and per month."""

    def __init__(
        self,
        weeks: Mapping[str, float] | None = None,
        months: Mapping[str, float] | None = None,
    ) -> None:
        """Start from stored totals; the space inactive."""
        self.weeks: dict[str, float] = dict(weeks or {})
        self.months: dict[str, float] = dict(months or {})
        self.active_since: datetime | None = None
        """When the running active interval's uncounted part began (None: inactive)."""

    def observe(self, active: bool, at: datetime) -> None:
        """Count the time since the last observation if the space was active; note the
        state from ``at`` on (an aware time). A time before the last one counts nothing."""
        if self.active_since is not None and at > self.active_since:
            self._add(self.active_since, at)
        if active:
            if self.active_since is None or at > self.active_since:
                self.active_since = at
        else:
            self.active_since = None

    def checkpoint(self, at: datetime) -> None:
        """Count the running interval up to ``at`` (the state unchanged)."""
        self.observe(self.active_since is not None, at)

    def week_hours(self, at: datetime) -> float:
        """Return the hours active in the week of ``at``, up to ``at``."""
        return self._hours(self.weeks, week_key, week_start, at)

    def month_hours(self, at: datetime) -> float:
        """Return the hours active in the month of ``at``, up to ``at``."""
        return self._hours(self.months, month_key, month_start, at)

    def _hours(
        self,
        totals: Mapping[str, float],
        key: Callable[[datetime], str],
        start: Callable[[datetime], datetime],
        at: datetime,
    ) -> float:
        seconds = totals.get(key(at), 0.0)
        if self.active_since is not None and at > self.active_since:
            seconds += seconds_between(max(self.active_since, start(at)), at)
        return round(seconds / 3600, 2)

    def _add(self, start: datetime, end: datetime) -> None:
        for totals, key, following, keep in (
            (self.weeks, week_key, next_week_start, KEEP_WEEKS),
            (self.months, month_key, next_month_start, KEEP_MONTHS),
        ):
            moment = start
            while moment < end:
                boundary = min(following(moment), end)
                name = key(moment)
                totals[name] = totals.get(name, 0.0) + seconds_between(moment, boundary)
                moment = boundary
            for stale in sorted(totals)[:-keep]:
                del totals[stale]

    def to_json(self) -> dict[str, Any]:
        """Return the stored form (the totals)."""
        return {"weeks": dict(self.weeks), "months": dict(self.months)}

    @classmethod
    def from_json(cls, data: object) -> tuple[ActiveTime, list[str]]:
        """Return the stored totals and the problems of what was dropped."""
        problems: list[str] = []
        parts: list[dict[str, float]] = []
        for name in ("weeks", "months"):
            raw = data.get(name, {}) if isinstance(data, Mapping) else None
            if not isinstance(raw, Mapping):
                problems.append(f"{name}: not an object")
                raw = {}
            kept: dict[str, float] = {}
            for key, seconds in raw.items():
                if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
                    problems.append(f"{name} {key}: not a number of seconds")
                else:
                    kept[str(key)] = float(seconds)
            parts.append(kept)
        return cls(parts[0], parts[1]), problems
