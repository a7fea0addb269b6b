"""The Grafana dashboard's queries run against a real telemetry schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
import re

import asyncpg

from custom_components.makerhub.core.telemetry import TelemetryStore

DASHBOARD = Path(__file__).parents[4] / "dashboards" / "grafana" / "makerhub-telemetry.json"


def expand(sql: str, start: datetime, end: datetime) -> str:
    """Replace the Grafana macros and variables the dashboard uses, as Grafana would."""
    sql = re.sub(
        r"\$__timeGroupAlias\(([^,]+),\s*('?[^)]*'?)\)",
        r"date_bin(INTERVAL '1 minute', \1, TIMESTAMPTZ '2000-01-03') AS time",
        sql,
    )
    sql = re.sub(
        r"\$__timeFilter\(([^)]+)\)",
        rf"\1 BETWEEN '{start.isoformat()}' AND '{end.isoformat()}'",
        sql,
    )
    return sql.replace("$unit", "'u1', 'u2'").replace("$variable", "'temp', 'mode'")


async def test_dashboard_queries_run(
    telemetry_store: TelemetryStore, pg_conn: asyncpg.Connection
) -> None:
    """Every panel and template query parses, runs and returns the rows it should."""
    now = datetime.now(UTC)
    telemetry_store.register_unit("u1", "Reactor")
    for i in range(120):
        time = now - timedelta(minutes=119 - i)
        telemetry_store.submit("u1", "temp", 20.0 + i / 10, time)
        telemetry_store.submit("u1", "mode", "heating" if i % 30 < 15 else "idle", time)
    assert await telemetry_store.flush(within=10)
    await telemetry_store.refresh_rollups()
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [t["rawSql"] for panel in dashboard["panels"] for t in panel["targets"]]
    queries += [v["query"] for v in dashboard["templating"]["list"]]
    results = {}
    for sql in queries:
        rows = await pg_conn.fetch(expand(sql, now - timedelta(hours=3), now))
        results[sql] = rows
        assert rows, sql
    latest = next(rows for sql, rows in results.items() if "DISTINCT ON" in sql)
    assert {(r["unit"], r["variable"], r["value"]) for r in latest} == {
        ("Reactor", "temp", str(20.0 + 119 / 10)),
        ("Reactor", "mode", "idle"),
    }
