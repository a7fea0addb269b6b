"""Reading history back: raw samples or one aggregate per time bucket, computed in SQL.

Buckets are aligned to the clock like TimescaleDB's ``time_bucket`` (origin 2000-01-03
00:00 UTC): on a hypertable the query uses ``time_bucket``, otherwise PostgreSQL's
``date_bin`` with that origin, so both give the same buckets. A point's ``time`` is the
start of its bucket (of the whole range when no bucket is given). Buckets without samples
are left out. Numeric aggregates ignore text values; ``last`` and ``raw`` return text
values as text; ``count`` counts every sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

import asyncpg

from .errors import QueryError

MAX_POINTS: Final = 10_000
ORIGIN_SQL: Final = "TIMESTAMPTZ '2000-01-03 00:00:00+00'"


class Aggregation(StrEnum):
    """How samples in a bucket become one value."""

    RAW = "raw"
    LAST = "last"
    AVG = "avg"
    MIN = "min"
    MAX = "max"
    MEDIAN = "median"
    COUNT = "count"


_AGGREGATES: Final = {
    Aggregation.AVG: "avg(value)",
    Aggregation.MIN: "min(value)",
    Aggregation.MAX: "max(value)",
    Aggregation.MEDIAN: "percentile_cont(0.5) WITHIN GROUP (ORDER BY value)",
    Aggregation.COUNT: "count(*)",
}
_WHERE: Final = "unit = $1 AND variable = $2 AND time >= $3 AND time < $4"
"""SQL below is composed from these constants only; every value is a bind parameter."""


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    """One sample (``raw``) or one bucket's aggregate."""

    time: datetime
    value: float | int | str | None


@dataclass(frozen=True, slots=True)
class History:
    """The answer to one history query."""

    unit: str
    variable: str
    aggregation: Aggregation
    bucket: timedelta | None
    points: list[HistoryPoint]
    truncated: bool
    """More raw samples matched than the limit; ask for a shorter range or a bucket."""

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly form (a service response)."""
        return {
            "unit": self.unit,
            "variable": self.variable,
            "aggregation": self.aggregation.value,
            "bucket": self.bucket.total_seconds() if self.bucket else None,
            "truncated": self.truncated,
            "points": [
                {"time": point.time.isoformat(), "value": point.value} for point in self.points
            ],
        }


def _check(
    start: datetime,
    end: datetime,
    aggregation: Aggregation,
    bucket: timedelta | None,
    limit: int,
) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise QueryError("start and end must carry a time zone")
    if start >= end:
        raise QueryError(f"start {start.isoformat()} is not before end {end.isoformat()}")
    if bucket is None:
        return
    if aggregation is Aggregation.RAW:
        raise QueryError("raw samples take no bucket; choose an aggregation")
    if bucket <= timedelta(0):
        raise QueryError("the bucket must be longer than 0 seconds")
    buckets = (end - start) / bucket
    if buckets > limit:
        raise QueryError(
            f"{(end - start)} in buckets of {bucket} gives {buckets:.0f} buckets; at most "
            f"{limit} are allowed, choose a bigger bucket"
        )


def _value(row: asyncpg.Record) -> float | int | str | None:
    value: float | int | str | None = row["value"]
    return row["text_value"] if value is None else value


async def get_history(
    conn: asyncpg.Connection,
    unit: str,
    variable: str,
    start: datetime,
    end: datetime,
    *,
    aggregation: Aggregation | str = Aggregation.RAW,
    bucket: timedelta | None = None,
    timescaledb_schema: str | None = None,
    limit: int = MAX_POINTS,
) -> History:
    """Return samples of one variable in ``[start, end)``, raw or aggregated.

    ``timescaledb_schema`` (the extension's schema, when ``samples`` is a hypertable)
    selects ``time_bucket``. Raises :class:`QueryError` for arguments that make no sense.
    """
    try:
        aggregation = Aggregation(aggregation)
    except ValueError:
        raise QueryError(
            f"unknown aggregation {aggregation!r}; one of {', '.join(Aggregation)}"
        ) from None
    _check(start, end, aggregation, bucket, limit)
    args: list[Any] = [unit, variable, start, end]
    points: list[HistoryPoint]
    truncated = False
    if aggregation is Aggregation.RAW:
        rows = await conn.fetch(
            f"SELECT time, value, text_value FROM samples WHERE {_WHERE} ORDER BY time LIMIT $5",  # noqa: S608
            *args,
            limit + 1,
        )
        truncated = len(rows) > limit
        points = [HistoryPoint(row["time"], _value(row)) for row in rows[:limit]]
    elif bucket is None:
        points = [await _whole_range(conn, aggregation, args, start)]
    else:
        if timescaledb_schema is not None:
            schema = '"' + timescaledb_schema.replace('"', '""') + '"'
            bucket_sql = f"{schema}.time_bucket($5::interval, time)"
        else:
            bucket_sql = f"date_bin($5::interval, time, {ORIGIN_SQL})"
        args.append(bucket)
        if aggregation is Aggregation.LAST:
            sql = (
                f"SELECT DISTINCT ON (bucket) {bucket_sql} AS bucket, value, text_value "  # noqa: S608
                f"FROM samples WHERE {_WHERE} ORDER BY bucket, time DESC"
            )
        else:
            numeric = "" if aggregation is Aggregation.COUNT else " AND value IS NOT NULL"
            sql = (
                f"SELECT {bucket_sql} AS bucket, {_AGGREGATES[aggregation]} AS value, "  # noqa: S608
                f"NULL::text AS text_value FROM samples WHERE {_WHERE}{numeric} "
                "GROUP BY bucket ORDER BY bucket"
            )
        rows = await conn.fetch(sql, *args)
        points = [HistoryPoint(row["bucket"], _value(row)) for row in rows]
    return History(unit, variable, aggregation, bucket, points, truncated)


async def _whole_range(
    conn: asyncpg.Connection, aggregation: Aggregation, args: list[Any], start: datetime
) -> HistoryPoint:
    if aggregation is Aggregation.LAST:
        row = await conn.fetchrow(
            f"SELECT value, text_value FROM samples WHERE {_WHERE} ORDER BY time DESC LIMIT 1",  # noqa: S608
            *args,
        )
        return HistoryPoint(start, None if row is None else _value(row))
    numeric = "" if aggregation is Aggregation.COUNT else " AND value IS NOT NULL"
    value = await conn.fetchval(
        f"SELECT {_AGGREGATES[aggregation]} FROM samples WHERE {_WHERE}{numeric}",  # noqa: S608
        *args,
    )
    return HistoryPoint(start, value)
