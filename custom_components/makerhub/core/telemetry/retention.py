"""Retention: raw samples older than their variable class allows are deleted in batches.

Each variable has a ``retention_class`` in the ``variables`` table (``default`` unless
registered otherwise); the policy maps classes to days. Deletion walks one series at a
time through the (unit, variable, time) index, ``batch_size`` rows per statement, so no
statement holds locks for long and the table stays writable. On a hypertable the same
per-series deletes apply (TimescaleDB's ``drop_chunks`` cannot keep some series longer
than others in one chunk). Rollups have their own horizons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

import asyncpg

DEFAULT_RETENTION_DAYS: Final = 90
BATCH_SIZE: Final = 10_000


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Days to keep raw samples per variable class, and rollups per resolution."""

    default_days: int = DEFAULT_RETENTION_DAYS
    """For the ``default`` class and any class without its own entry."""
    class_days: Mapping[str, int] = field(default_factory=dict)
    rollup_1m_days: int | None = 365
    """None keeps 1-minute rollups forever."""
    rollup_1h_days: int | None = None
    """None keeps 1-hour rollups forever."""

    def __post_init__(self) -> None:
        """Refuse horizons of less than a day."""
        days = [self.default_days, *self.class_days.values()]
        days += [d for d in (self.rollup_1m_days, self.rollup_1h_days) if d is not None]
        if any(d < 1 for d in days):
            raise ValueError("retention must be at least 1 day")

    def days_for(self, retention_class: str) -> int:
        """Return the days samples of ``retention_class`` are kept."""
        return self.class_days.get(retention_class, self.default_days)

    @property
    def shortest_days(self) -> int:
        """Return the shortest raw horizon (older raw rows may be gone)."""
        return min([self.default_days, *self.class_days.values()])


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """Rows deleted by one run."""

    deleted: int
    by_class: dict[str, int]
    rollups_deleted: int


_NEXT_BOUNDARY: Final = """
    SELECT time FROM samples WHERE unit = $1 AND variable = $2 AND time < $3
    ORDER BY time OFFSET $4 LIMIT 1
"""
_DELETE_BEFORE: Final = "DELETE FROM samples WHERE unit = $1 AND variable = $2 AND time < $3"
_DELETE_UP_TO: Final = "DELETE FROM samples WHERE unit = $1 AND variable = $2 AND time <= $3"
_ROLLUP_SQL: Final = {
    "samples_1m": (
        "SELECT min(bucket) FROM samples_1m",
        "DELETE FROM samples_1m WHERE bucket < $1",
    ),
    "samples_1h": (
        "SELECT min(bucket) FROM samples_1h",
        "DELETE FROM samples_1h WHERE bucket < $1",
    ),
}


def _count(status: str) -> int:
    """Return the row count of a ``DELETE n`` command status."""
    return int(status.rsplit(maxsplit=1)[-1])


async def _delete_series(
    conn: asyncpg.Connection, unit: str, variable: str, cutoff: datetime, batch_size: int
) -> int:
    deleted = 0
    while True:
        boundary = await conn.fetchval(_NEXT_BOUNDARY, unit, variable, cutoff, batch_size)
        if boundary is None:
            return deleted + _count(await conn.execute(_DELETE_BEFORE, unit, variable, cutoff))
        count = _count(await conn.execute(_DELETE_BEFORE, unit, variable, boundary))
        if count == 0:  # more than batch_size rows share the oldest timestamp
            count = _count(await conn.execute(_DELETE_UP_TO, unit, variable, boundary))
        deleted += count


async def _delete_rollups(conn: asyncpg.Connection, table: str, cutoff: datetime) -> int:
    oldest_sql, delete_sql = _ROLLUP_SQL[table]
    deleted = 0
    while True:
        oldest = await conn.fetchval(oldest_sql)
        if oldest is None or oldest >= cutoff:
            return deleted
        deleted += _count(await conn.execute(delete_sql, min(cutoff, oldest + timedelta(days=1))))


async def enforce_retention(
    conn: asyncpg.Connection,
    policy: RetentionPolicy,
    *,
    now: datetime | None = None,
    batch_size: int = BATCH_SIZE,
) -> RetentionReport:
    """Delete samples (and rollups) older than ``policy`` allows, as of ``now``."""
    now = now or datetime.now(UTC)
    by_class: dict[str, int] = {}
    series = await conn.fetch(
        "SELECT unit, variable, retention_class FROM variables ORDER BY unit, variable"
    )
    for row in series:
        cls = row["retention_class"]
        cutoff = now - timedelta(days=policy.days_for(cls))
        deleted = await _delete_series(conn, row["unit"], row["variable"], cutoff, batch_size)
        by_class[cls] = by_class.get(cls, 0) + deleted
    rollups = 0
    for table, days in (
        ("samples_1m", policy.rollup_1m_days),
        ("samples_1h", policy.rollup_1h_days),
    ):
        if days is not None:
            rollups += await _delete_rollups(conn, table, now - timedelta(days=days))
    return RetentionReport(sum(by_class.values()), by_class, rollups)
