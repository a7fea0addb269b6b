"""Versioned schema migrations of the telemetry tables.

Every telemetry connection sets ``search_path`` to the telemetry schema alone (see
:func:`.dsn.server_settings`), so the SQL here and elsewhere names tables unqualified and
can never reach into another schema. ``schema_version`` records each applied migration;
each runs in its own transaction under an advisory lock, so two Home Assistant instances
starting at once cannot apply one twice, and a failure leaves the previous version intact.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
import logging
from typing import Final

import asyncpg

from .errors import DsnError, DsnErrorKind

_LOGGER = logging.getLogger(__name__)

LOCK_NAMESPACE: Final = "makerhub-telemetry-migrations:"


class StorageMode(StrEnum):
    """How ``samples`` is stored, recorded when the table is created."""

    TIMESCALEDB = "timescaledb"
    """A TimescaleDB hypertable (1-day chunks)."""
    POSTGRESQL = "postgresql"
    """A plain table with a BRIN index on time."""


@dataclass(frozen=True, slots=True)
class SchemaState:
    """Where a database's telemetry schema stands."""

    version: int
    """The newest applied migration; 0 before the first."""
    storage_mode: StorageMode | None
    timescaledb_schema: str | None
    """The schema of the installed TimescaleDB extension, if any (for ``time_bucket``)."""

    @property
    def timescaledb(self) -> bool:
        """Return whether queries may use TimescaleDB functions on a hypertable."""
        return self.storage_mode is StorageMode.TIMESCALEDB and self.timescaledb_schema is not None


type MigrationStep = Callable[[asyncpg.Connection], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of the schema's history; never edit a released one, add another."""

    version: int
    description: str
    apply: MigrationStep


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


async def _timescaledb_schema(conn: asyncpg.Connection) -> str | None:
    name: str | None = await conn.fetchval(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'timescaledb'"
    )
    return name


async def _enable_timescaledb(conn: asyncpg.Connection) -> str | None:
    """Install TimescaleDB if the server has it; return its schema, or None for plain tables."""
    if (schema := await _timescaledb_schema(conn)) is not None:
        return schema
    available = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')"
    )
    if not available:
        return None
    try:
        async with conn.transaction():
            await conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    except asyncpg.PostgresError as err:
        _LOGGER.warning("TimescaleDB is installed but cannot be enabled (%s): plain tables", err)
        return None
    return await _timescaledb_schema(conn)


async def _v1_samples(conn: asyncpg.Connection) -> None:
    # unit and variable are ids compared byte-wise (COLLATE "C"): locale-aware comparison
    # made every insert into the (unit, variable, time) index markedly slower.
    await conn.execute(
        """
        CREATE TABLE telemetry_meta (key text PRIMARY KEY, value text NOT NULL);
        CREATE TABLE samples (
            time timestamptz NOT NULL,
            unit text COLLATE "C" NOT NULL,
            variable text COLLATE "C" NOT NULL,
            value double precision,
            text_value text
        );
        CREATE INDEX samples_unit_variable_time ON samples (unit, variable, time);
        CREATE TABLE units (
            unit text COLLATE "C" PRIMARY KEY,
            name text,
            model text,
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE variables (
            unit text COLLATE "C" NOT NULL,
            variable text COLLATE "C" NOT NULL,
            type text,
            direction text,
            unit_of_measurement text,
            device_class text,
            retention_class text NOT NULL DEFAULT 'default',
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (unit, variable)
        );
        """
    )
    timescaledb = await _enable_timescaledb(conn)
    if timescaledb is not None:
        await conn.execute(
            f"SELECT {_quote(timescaledb)}.create_hypertable('samples', 'time', "
            "chunk_time_interval => INTERVAL '1 day')"
        )
        mode = StorageMode.TIMESCALEDB
    else:
        await conn.execute("CREATE INDEX samples_time_brin ON samples USING brin (time)")
        mode = StorageMode.POSTGRESQL
    await conn.execute(
        "INSERT INTO telemetry_meta (key, value) VALUES ('storage_mode', $1)", mode.value
    )


_ROLLUP_COLUMNS: Final = """
    bucket timestamptz NOT NULL,
    unit text COLLATE "C" NOT NULL,
    variable text COLLATE "C" NOT NULL,
    min double precision NOT NULL,
    max double precision NOT NULL,
    avg double precision NOT NULL,
    sum double precision NOT NULL,
    count bigint NOT NULL,
    PRIMARY KEY (unit, variable, bucket)
"""


async def _v2_rollups(conn: asyncpg.Connection) -> None:
    await conn.execute(
        f"""
        CREATE TABLE samples_1m ({_ROLLUP_COLUMNS});
        CREATE INDEX samples_1m_bucket ON samples_1m (bucket);
        CREATE TABLE samples_1h ({_ROLLUP_COLUMNS});
        CREATE INDEX samples_1h_bucket ON samples_1h (bucket);
        CREATE TABLE rollup_dirty (bucket timestamptz NOT NULL);
        """
    )


MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(1, "samples, units and variables", _v1_samples),
    Migration(2, "1-minute and 1-hour rollups", _v2_rollups),
)
LATEST_VERSION: Final = MIGRATIONS[-1].version


async def read_state(conn: asyncpg.Connection, schema: str) -> SchemaState:
    """Return the schema's version and storage mode without changing anything."""
    version = 0
    mode: StorageMode | None = None
    if await conn.fetchval("SELECT to_regclass(format('%I.schema_version', $1::text))", schema):
        version = await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_version")
    if version >= 1:
        raw_mode = await conn.fetchval(
            "SELECT value FROM telemetry_meta WHERE key = 'storage_mode'"
        )
        mode = StorageMode(raw_mode) if raw_mode in tuple(StorageMode) else None
    return SchemaState(version, mode, await _timescaledb_schema(conn))


async def _lock(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", LOCK_NAMESPACE + schema)


async def migrate(
    conn: asyncpg.Connection, schema: str, *, target: int = LATEST_VERSION
) -> SchemaState:
    """Bring ``schema`` up to ``target``; a no-op when it is there already.

    Raises :class:`DsnError` (``SCHEMA_TOO_NEW``) when a newer Makerhub migrated it further
    than this code knows, and asyncpg's errors when the role lacks privileges.
    """
    async with conn.transaction():
        await _lock(conn, schema)  # CREATE ... IF NOT EXISTS is not safe against a race
        exists = await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema
        )
        if not exists:
            await conn.execute(f"CREATE SCHEMA {_quote(schema)}")
        has_versions = await conn.fetchval(
            "SELECT to_regclass(format('%I.schema_version', $1::text)) IS NOT NULL", schema
        )
        if not has_versions:  # a role with table privileges only may not even try CREATE
            await conn.execute(
                """
            CREATE TABLE schema_version (
                version integer PRIMARY KEY,
                description text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
            )
    current = (await read_state(conn, schema)).version
    if current > LATEST_VERSION:
        raise DsnError(
            DsnErrorKind.SCHEMA_TOO_NEW,
            f"the telemetry tables are at version {current}, newer than this Makerhub "
            f"knows ({LATEST_VERSION}); update Makerhub",
        )
    for migration in MIGRATIONS:
        if migration.version > target:
            break
        async with conn.transaction():
            await _lock(conn, schema)
            current = await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_version")
            if current >= migration.version:
                continue
            _LOGGER.info(
                "Telemetry schema %s: applying migration %d (%s)",
                schema,
                migration.version,
                migration.description,
            )
            await migration.apply(conn)
            await conn.execute(
                "INSERT INTO schema_version (version, description) VALUES ($1, $2)",
                migration.version,
                migration.description,
            )
    return await read_state(conn, schema)
