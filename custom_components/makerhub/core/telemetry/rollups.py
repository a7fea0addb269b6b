"""Downsampled rollups: min/max/avg/sum/count per 1 minute and per 1 hour.

The writer records, in the same transaction as each batch, which minutes the batch
touched (``rollup_dirty``). :func:`refresh_rollups` (a periodic job) takes those marks,
recomputes exactly those minutes of ``samples_1m`` from the raw samples, then the hours
containing them in ``samples_1h`` from ``samples_1m``. Late rows (a spill replayed after
an outage) therefore land in the right buckets, and a refresh costs what was written
since the previous one, not the table size. Buckets are aligned like TimescaleDB's
``time_bucket`` (origin 2000-01-03 00:00 UTC), so they match the history queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import asyncpg

from .samples import Row

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE_US: Final = 60_000_000
HOUR: Final = timedelta(hours=1)
LOCK_NAME: Final = "makerhub-telemetry-rollups"


def dirty_minutes(rows: Iterable[Row]) -> list[int]:
    """Return the distinct minute buckets the rows fall in (µs since the epoch), oldest first."""
    minutes = {row[0] // MINUTE_US for row in rows}
    return [minute * MINUTE_US for minute in sorted(minutes)]


async def mark_dirty(conn: asyncpg.Connection, minutes: list[int]) -> None:
    """Record minute buckets to recompute (in the batch's transaction, on the writer's
    connection, whose ``timestamptz`` codec takes µs since the epoch)."""
    await conn.execute(
        "INSERT INTO rollup_dirty (bucket) SELECT unnest($1::timestamptz[])", minutes
    )


@dataclass(frozen=True, slots=True)
class RollupReport:
    """What one refresh recomputed."""

    minutes: int
    hours: int


async def refresh_rollups(
    conn: asyncpg.Connection, *, horizon: datetime | None = None
) -> RollupReport:
    """Recompute the buckets written to since the last refresh.

    Marks older than ``horizon`` (where retention may already have removed raw rows) are
    discarded: those buckets keep the rollup computed while their raw rows existed.
    """
    async with conn.transaction():
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1 || current_schema()))", LOCK_NAME
        )
        marks = await conn.fetch("DELETE FROM rollup_dirty RETURNING bucket")
        minutes = sorted(
            {row["bucket"] for row in marks if horizon is None or row["bucket"] >= horizon}
        )
        if not minutes:
            return RollupReport(0, 0)
        hours = sorted({EPOCH + int(m.timestamp()) // 3600 * HOUR for m in minutes})
        await conn.execute("DELETE FROM samples_1m WHERE bucket = ANY($1::timestamptz[])", minutes)
        await conn.execute(
            """
            INSERT INTO samples_1m (bucket, unit, variable, min, max, avg, sum, count)
            SELECT d.bucket, s.unit, s.variable,
                   min(s.value), max(s.value), avg(s.value), sum(s.value), count(*)
            FROM unnest($1::timestamptz[]) AS d(bucket)
            JOIN samples AS s
              ON s.time >= d.bucket AND s.time < d.bucket + INTERVAL '1 minute'
            WHERE s.value IS NOT NULL
            GROUP BY d.bucket, s.unit, s.variable
            """,
            minutes,
        )
        await conn.execute("DELETE FROM samples_1h WHERE bucket = ANY($1::timestamptz[])", hours)
        await conn.execute(
            """
            INSERT INTO samples_1h (bucket, unit, variable, min, max, avg, sum, count)
            SELECT d.bucket, m.unit, m.variable,
                   min(m.min), max(m.max), sum(m.sum) / sum(m.count), sum(m.sum), sum(m.count)
            FROM unnest($1::timestamptz[]) AS d(bucket)
            JOIN samples_1m AS m
              ON m.bucket >= d.bucket AND m.bucket < d.bucket + INTERVAL '1 hour'
            GROUP BY d.bucket, m.unit, m.variable
            """,
            hours,
        )
    return RollupReport(len(minutes), len(hours))
