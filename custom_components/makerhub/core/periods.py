"""Calendar periods of the success indicators: the week (from Monday) and the month.

Pure Python (no Home Assistant imports). Times are aware; a period starts at local
midnight in the time zone of the time given (Home Assistant's, from ``dt_util.now()``),
so a daylight-saving change inside a period is counted in real seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def _midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0, fold=0)


def week_start(moment: datetime) -> datetime:
    """Return the start of the week (Monday, local midnight) that holds ``moment``."""
    return _midnight(moment - timedelta(days=moment.weekday()))


def next_week_start(moment: datetime) -> datetime:
    """Return the start of the week after the one that holds ``moment``."""
    return _midnight(week_start(moment) + timedelta(days=7, hours=12))


def month_start(moment: datetime) -> datetime:
    """Return the start of the calendar month (the 1st, local midnight) of ``moment``."""
    return _midnight(moment.replace(day=1))


def next_month_start(moment: datetime) -> datetime:
    """Return the start of the month after the one that holds ``moment``."""
    return month_start(month_start(moment) + timedelta(days=32))


def seconds_between(start: datetime, end: datetime) -> float:
    """Return the real seconds from ``start`` to ``end`` (across offset changes)."""
    return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()


def within(moment: datetime | None, start: datetime, end: datetime) -> bool:
    """Return whether ``moment`` is in ``[start, end)`` (None is in no period)."""
    return moment is not None and start <= moment < end
