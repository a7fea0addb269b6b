"""Schema creation and versioned migrations against the real PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
import logging
from typing import Any

import asyncpg
import pytest

from custom_components.makerhub.core.telemetry import Dsn, DsnError, DsnErrorKind, StorageMode
from custom_components.makerhub.core.telemetry.dsn import connect, server_settings, validate_dsn
from custom_components.makerhub.core.telemetry.migrations import (
    LATEST_VERSION,
    MIGRATIONS,
    migrate,
    read_state,
)


async def tables(conn: asyncpg.Connection, schema: str) -> set[str]:
    """Return the tables of ``schema``."""
    rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1", schema)
    return {row["tablename"] for row in rows}


async def test_fresh_schema_is_created(pg_conn: asyncpg.Connection, pg_schema: str) -> None:
    """All tables, the (unit, variable, time) index and the storage mode are created."""
    assert (await read_state(pg_conn, pg_schema)).version == 0
    state = await migrate(pg_conn, pg_schema)
    assert state.version == LATEST_VERSION == len(MIGRATIONS)
    assert await tables(pg_conn, pg_schema) == {
        "schema_version",
        "telemetry_meta",
        "samples",
        "units",
        "variables",
        "samples_1m",
        "samples_1h",
        "rollup_dirty",
    }
    index = await pg_conn.fetchval(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = "
        "'samples_unit_variable_time'",
        pg_schema,
    )
    assert '(unit, variable, "time")' in index
    timescale_available = await pg_conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')"
    )
    expected = StorageMode.TIMESCALEDB if timescale_available else StorageMode.POSTGRESQL
    assert state.storage_mode is expected
    assert state.timescaledb is timescale_available
    columns = await pg_conn.fetch(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema = $1 AND table_name = 'samples' ORDER BY ordinal_position",
        pg_schema,
    )
    assert [tuple(row) for row in columns] == [
        ("time", "timestamp with time zone", "NO"),
        ("unit", "text", "NO"),
        ("variable", "text", "NO"),
        ("value", "double precision", "YES"),
        ("text_value", "text", "YES"),
    ]
    public = await pg_conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
    assert public == 0  # nothing leaked outside the test's schema


async def test_migrate_is_idempotent(pg_conn: asyncpg.Connection, pg_schema: str) -> None:
    """A second run applies nothing and records nothing."""
    first = await migrate(pg_conn, pg_schema)
    second = await migrate(pg_conn, pg_schema)
    assert first == second
    versions = await pg_conn.fetch("SELECT version FROM schema_version ORDER BY version")
    assert [row["version"] for row in versions] == [m.version for m in MIGRATIONS]


async def test_migrate_from_version_1_keeps_data(
    pg_conn: asyncpg.Connection, pg_schema: str
) -> None:
    """A database at version 1 with samples gets the rollup tables; its rows stay."""
    state = await migrate(pg_conn, pg_schema, target=1)
    assert state.version == 1
    assert "samples_1m" not in await tables(pg_conn, pg_schema)
    now = datetime.now(UTC)
    await pg_conn.copy_records_to_table(
        "samples",
        records=[(now, "u1", "temp", 20.5, None), (now, "u1", "mode", None, "auto")],
        columns=["time", "unit", "variable", "value", "text_value"],
    )
    state = await migrate(pg_conn, pg_schema)
    assert state.version == LATEST_VERSION
    assert {"samples_1m", "samples_1h", "rollup_dirty"} <= await tables(pg_conn, pg_schema)
    rows = await pg_conn.fetch(
        "SELECT unit, variable, value, text_value FROM samples ORDER BY variable"
    )
    assert [tuple(row) for row in rows] == [
        ("u1", "mode", None, "auto"),
        ("u1", "temp", 20.5, None),
    ]


async def test_concurrent_migrations_apply_once(
    pg_conn: asyncpg.Connection, telemetry_dsn: Dsn, pg_schema: str
) -> None:
    """Two instances starting at once: each migration is applied exactly once."""
    other = await connect(telemetry_dsn, schema=pg_schema)
    try:
        states = await asyncio.gather(migrate(pg_conn, pg_schema), migrate(other, pg_schema))
    finally:
        await other.close()
    assert states[0] == states[1]
    assert await pg_conn.fetchval("SELECT count(*) FROM schema_version") == len(MIGRATIONS)


async def test_newer_schema_is_refused(
    pg_conn: asyncpg.Connection, telemetry_dsn: Dsn, pg_schema: str
) -> None:
    """Tables migrated by a newer Makerhub: a precise error, and nothing is touched."""
    await migrate(pg_conn, pg_schema)
    await pg_conn.execute(
        "INSERT INTO schema_version (version, description) VALUES ($1, 'future')",
        LATEST_VERSION + 1,
    )
    with pytest.raises(DsnError) as caught:
        await migrate(pg_conn, pg_schema)
    assert caught.value.kind is DsnErrorKind.SCHEMA_TOO_NEW
    with pytest.raises(DsnError) as caught:
        await validate_dsn(telemetry_dsn, schema=pg_schema)
    assert caught.value.kind is DsnErrorKind.SCHEMA_TOO_NEW
    assert await pg_conn.fetchval("SELECT max(version) FROM schema_version") == LATEST_VERSION + 1


class ListsTimescaleDb(asyncpg.Connection):  # type: ignore[misc]
    """A real connection to a server that claims TimescaleDB is available.

    As a server does whose TimescaleDB package is installed but not loaded (it is missing
    from ``shared_preload_libraries``): ``CREATE EXTENSION`` then fails, here because the
    extension's files are not there.
    """

    async def fetchval(self, query: str, *args: Any, **kwargs: Any) -> Any:
        """Answer the availability question with yes; pass everything else on."""
        if "pg_available_extensions" in query:
            return True
        return await super().fetchval(query, *args, **kwargs)


async def test_timescaledb_that_cannot_be_enabled_falls_back_to_plain_tables(
    socket_enabled: None,
    telemetry_dsn: Dsn,
    pg_schema: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The failed CREATE EXTENSION is rolled back alone: a plain table with a BRIN index."""
    conn = await asyncpg.connect(
        telemetry_dsn.reveal(),
        server_settings=server_settings(pg_schema),
        connection_class=ListsTimescaleDb,
    )
    try:
        with caplog.at_level(logging.WARNING):
            state = await migrate(conn, pg_schema)
        assert state.version == LATEST_VERSION
        assert state.storage_mode is StorageMode.POSTGRESQL
        assert not state.timescaledb
        assert "TimescaleDB is installed but cannot be enabled" in caplog.text
        brin = await conn.fetchval(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = "
            "'samples_time_brin'",
            pg_schema,
        )
        assert "USING brin" in brin
    finally:
        await conn.close()
