"""The store facade: maintenance jobs, backups, outages on reads, no secrets shown."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
import re
import subprocess

import asyncpg
import pytest

from custom_components.makerhub.core.telemetry import (
    BackupError,
    Dsn,
    TelemetryConfig,
    TelemetryStore,
    TelemetryUnavailableError,
)
from custom_components.makerhub.core.telemetry.backup import backup_database
from dev.processes.ports import free_port
from dev.processes.postgres import PostgresServer, create_database, drop_database, psql, unique_name

from .telemetry_helpers import FAST, wait_for

SECRET = "hunter2-not-shown"


def config(dsn: Dsn, tmp_path: Path, schema: str, **changes: object) -> TelemetryConfig:
    """Return a test configuration without periodic jobs unless asked."""
    base = TelemetryConfig(
        dsn=dsn,
        spill_path=tmp_path / "spill",
        schema=schema,
        writer=FAST,
        rollup_interval=None,
        retention_interval=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


async def test_maintenance_jobs_run_periodically(
    socket_enabled: None,
    telemetry_database: str,
    pg_schema: str,
    tmp_path: Path,
    pg_conn: asyncpg.Connection,
) -> None:
    """With intervals set, rollups refresh and retention runs without being called."""
    dsn = Dsn(f"postgresql://postgres:{SECRET}@127.0.0.1:5432/{telemetry_database}")
    store = TelemetryStore(
        config(
            dsn,
            tmp_path,
            pg_schema,
            writer=replace(FAST, rollups=True),
            rollup_interval=0.2,
            retention_interval=0.3,
        )
    )
    await store.start()
    try:
        now = datetime.now(UTC)
        for i in range(100):
            store.submit("u1", "temp", float(i), now - timedelta(seconds=i))
        store.submit("u1", "temp", 5.0, now - timedelta(days=200))  # past 90 days
        assert await store.flush(within=10)
        await wait_for(lambda: store.last_retention is not None and store.last_rollups is not None)
        # Each run overwrites the last report, so the outcome is read from the tables: the
        # old sample deleted, every recent one in the rollups (a run may have started
        # before the flush, hence the polling).
        async with asyncio.timeout(10):
            while (
                await pg_conn.fetchval(
                    "SELECT count(*) FROM samples WHERE time < now() - interval '90 days'"
                )
                or (await pg_conn.fetchval("SELECT sum(count) FROM samples_1m") or 0) < 100
            ):
                await asyncio.sleep(0.05)
        assert await pg_conn.fetchval("SELECT count(*) FROM samples") == 100
        diagnostics = store.diagnostics()
        assert diagnostics["counters"]["written"] == 101
        assert diagnostics["storage_mode"] in ("postgresql", "timescaledb")
        assert SECRET not in str(diagnostics)
        assert SECRET not in repr(store)
        assert SECRET not in repr(store.config)
        assert ":***@" in diagnostics["database"]
    finally:
        await store.stop()


async def test_backup_and_restore(
    telemetry_store: TelemetryStore, pg_schema: str, tmp_path: Path
) -> None:
    """pg_dump writes a timestamped file; pg_restore brings the samples back."""
    for i in range(50):
        telemetry_store.submit("u1", "temp", float(i))
    assert await telemetry_store.flush(within=10)
    path = await telemetry_store.backup(tmp_path / "backups")
    assert path.parent == tmp_path / "backups"
    assert re.fullmatch(r"makerhub-telemetry-.+-\d{8}T\d{6}Z\.dump", path.name)
    assert path.stat().st_size > 0
    assert list(path.parent.iterdir()) == [path]  # no .partial left
    restored = unique_name("makerhub_test_restore")
    create_database(restored)
    try:
        subprocess.run(
            [
                "pg_restore",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                restored,
                "--no-owner",
                str(path),
            ],
            check=True,
            capture_output=True,
        )
        count = psql(f'SELECT count(*) FROM "{pg_schema}".samples', database=restored)
        assert count == "50"
    finally:
        drop_database(restored)


async def test_backup_failure_is_clear_and_leaves_nothing(
    socket_enabled: None, tmp_path: Path
) -> None:
    """pg_dump that cannot connect: BackupError with the reason, no password, no file."""
    dsn = Dsn(f"postgresql://postgres:{SECRET}@127.0.0.1:{free_port()}/nothing")
    with pytest.raises(BackupError) as caught:
        await backup_database(dsn, tmp_path / "backups")
    assert "pg_dump of postgres@127.0.0.1" in str(caught.value)
    assert "failed" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert list((tmp_path / "backups").iterdir()) == []
    with pytest.raises(BackupError, match=r"not installed.*Home Assistant OS"):
        await backup_database(dsn, tmp_path / "backups", pg_dump="pg_dump_does_not_exist")


async def test_reads_while_the_database_is_down(
    socket_enabled: None,
    own_postgres: PostgresServer,
    own_database: str,
    tmp_path: Path,
) -> None:
    """History with the server down raises TelemetryUnavailableError; writes buffer."""
    dsn = Dsn(own_postgres.dsn(own_database))
    store = TelemetryStore(config(dsn, tmp_path, "public"))
    await store.start()
    try:
        store.submit("u1", "temp", 1.0)
        assert await store.flush(within=10)
        own_postgres.stop("fast")
        end = datetime.now(UTC) + timedelta(minutes=1)
        with pytest.raises(TelemetryUnavailableError) as caught:
            await store.get_history("u1", "temp", end - timedelta(hours=1), end)
        assert f"127.0.0.1:{own_postgres.port}" in str(caught.value)
        store.submit("u1", "temp", 2.0)
        own_postgres.start()
        assert await store.flush(within=10)
        history = await store.get_history("u1", "temp", end - timedelta(hours=1), end)
        assert [p.value for p in history.points] == [1.0, 2.0]
    finally:
        if not own_postgres.running:
            own_postgres.start()
        await store.stop()


async def test_stopped_store_refuses_reads(telemetry_dsn: Dsn, tmp_path: Path) -> None:
    """A store that is not running says so."""
    store = TelemetryStore(config(telemetry_dsn, tmp_path, "public"))
    now = datetime.now(UTC)
    with pytest.raises(TelemetryUnavailableError, match="not running"):
        await store.get_history("u1", "temp", now - timedelta(hours=1), now)
