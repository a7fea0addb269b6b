"""Retention per variable class, in bounded batches, and the rollup tables."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
import statistics

import asyncpg
import pytest

from custom_components.makerhub.core.schema import VarType
from custom_components.makerhub.core.telemetry import RetentionPolicy, TelemetryStore, VariableInfo
from custom_components.makerhub.core.telemetry.migrations import migrate
from custom_components.makerhub.core.telemetry.retention import enforce_retention

NOW = datetime(2025, 6, 1, 0, 0, tzinfo=UTC)


async def test_retention_per_class_in_batches(
    telemetry_store: TelemetryStore, pg_conn: asyncpg.Connection
) -> None:
    """Each series keeps exactly what its class allows; small batches, ties included."""
    store = telemetry_store
    store.register_variable(VariableInfo("u1", "fast", VarType.FLOAT, retention_class="short"))
    store.register_variable(VariableInfo("u1", "slow", VarType.FLOAT, retention_class="long"))
    expected_kept: dict[str, int] = defaultdict(int)
    days = {"fast": 7, "slow": 365, "plain": 90}
    for day in range(0, 400, 3):
        time = NOW - timedelta(days=day, hours=1)
        for variable in ("fast", "slow", "plain"):
            for repeat in range(3):  # three samples with the same timestamp: ties
                store.submit("u1", variable, float(day * 10 + repeat), time)
            if day < days[variable]:
                expected_kept[variable] += 3
    assert await store.flush(within=10)
    policy = RetentionPolicy(default_days=90, class_days={"short": 7, "long": 365})
    report = await enforce_retention(pg_conn, policy, now=NOW, batch_size=4)
    rows = await pg_conn.fetch("SELECT variable, count(*), min(time) FROM samples GROUP BY 1")
    kept = {row["variable"]: row["count"] for row in rows}
    assert kept == dict(expected_kept)
    for row in rows:
        assert row["min"] >= NOW - timedelta(days=days[row["variable"]])
    total = 3 * 3 * len(range(0, 400, 3))
    assert report.deleted == total - sum(expected_kept.values())
    assert report.by_class == {
        "short": 3 * len(range(0, 400, 3)) - expected_kept["fast"],
        "long": 3 * len(range(0, 400, 3)) - expected_kept["slow"],
        "default": 3 * len(range(0, 400, 3)) - expected_kept["plain"],
    }
    again = await enforce_retention(pg_conn, policy, now=NOW, batch_size=4)
    assert again.deleted == 0


def test_policy_refuses_less_than_a_day() -> None:
    """A zero or negative horizon is a configuration error."""
    with pytest.raises(ValueError, match="at least 1 day"):
        RetentionPolicy(default_days=0)
    assert RetentionPolicy(class_days={"x": 3}).days_for("x") == 3
    assert RetentionPolicy().days_for("unknown") == 90


async def test_rollups_match_python_and_follow_late_samples(
    telemetry_store: TelemetryStore, pg_conn: asyncpg.Connection
) -> None:
    """1-minute and 1-hour rollups equal Python's numbers, also after a late sample."""
    store = telemetry_store
    # Start on an hour boundary so the 90 minutes always span exactly two hours.
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    values: dict[datetime, list[float]] = defaultdict(list)
    for i in range(900):  # 90 minutes, one sample every 6 s
        time = now + timedelta(seconds=i * 6)
        value = float((i * 37) % 101) / 4
        values[time.replace(second=0)].append(value)
        store.submit("u1", "temp", value, time)
    store.submit("u1", "mode", "auto", now)  # text: not in rollups
    assert await store.flush(within=10)
    report = await store.refresh_rollups()
    assert report.minutes == 90
    assert report.hours == 2

    async def check() -> None:
        rows = await pg_conn.fetch("SELECT * FROM samples_1m ORDER BY bucket")
        assert [row["bucket"] for row in rows] == sorted(values)
        for row in rows:
            group = values[row["bucket"]]
            assert (row["min"], row["max"], row["count"]) == (min(group), max(group), len(group))
            assert row["avg"] == pytest.approx(statistics.fmean(group))
        hours: dict[datetime, list[float]] = defaultdict(list)
        for minute, group in values.items():
            hours[minute.replace(minute=0)].extend(group)
        rows = await pg_conn.fetch("SELECT * FROM samples_1h ORDER BY bucket")
        assert [row["bucket"] for row in rows] == sorted(hours)
        for row in rows:
            group = hours[row["bucket"]]
            assert (row["min"], row["max"], row["count"]) == (min(group), max(group), len(group))
            assert row["avg"] == pytest.approx(statistics.fmean(group))

    await check()
    late = now + timedelta(minutes=5, seconds=30)
    store.submit("u1", "temp", 1000.0, late)  # e.g. replayed from a spill file
    values[late.replace(second=0)].append(1000.0)
    assert await store.flush(within=10)
    report = await store.refresh_rollups()
    assert (report.minutes, report.hours) == (1, 1)
    await check()
    assert (await store.refresh_rollups()).minutes == 0


async def test_rollup_retention(pg_conn: asyncpg.Connection, pg_schema: str) -> None:
    """Rollups older than their horizon go; those inside stay."""
    await migrate(pg_conn, pg_schema)
    rows = [
        (NOW - timedelta(days=d), "u1", "temp", 1.0, 2.0, 1.5, 3.0, 2)
        for d in (1, 30, 200, 400, 800)
    ]
    columns = ["bucket", "unit", "variable", "min", "max", "avg", "sum", "count"]
    await pg_conn.copy_records_to_table("samples_1m", records=rows, columns=columns)
    await pg_conn.copy_records_to_table("samples_1h", records=rows, columns=columns)
    policy = RetentionPolicy(rollup_1m_days=100, rollup_1h_days=500)
    report = await enforce_retention(pg_conn, policy, now=NOW)
    assert report.rollups_deleted == 3 + 1
    assert await pg_conn.fetchval("SELECT count(*) FROM samples_1m") == 2
    assert await pg_conn.fetchval("SELECT count(*) FROM samples_1h") == 4
