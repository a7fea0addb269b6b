"""Fixtures for the core's tests: real PostgreSQL databases and private servers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest

from custom_components.makerhub.core.telemetry import Dsn, TelemetryConfig, TelemetryStore
from custom_components.makerhub.core.telemetry.dsn import connect
from dev.processes.postgres import (
    PostgresServer,
    create_database,
    drop_database,
    dsn,
    unique_name,
)

from .telemetry_helpers import FAST


@pytest.fixture(scope="session")
def telemetry_database() -> Iterator[str]:
    """Create this test run's own database on the shared server; drop it at the end."""
    name = unique_name("makerhub_test_telemetry")
    create_database(name)
    try:
        yield name
    finally:
        drop_database(name)


@pytest.fixture
def pg_schema() -> str:
    """Return a schema name of this test's own (the store creates it)."""
    return unique_name("t")


@pytest.fixture
def telemetry_dsn(telemetry_database: str) -> Dsn:
    """Return the DSN of this run's database."""
    return Dsn(dsn(telemetry_database))


@pytest.fixture
async def pg_conn(
    socket_enabled: None, telemetry_dsn: Dsn, pg_schema: str
) -> AsyncIterator[asyncpg.Connection]:
    """Return a connection whose search_path is this test's schema."""
    conn = await connect(telemetry_dsn, schema=pg_schema)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def own_postgres() -> Iterator[PostgresServer]:
    """Start a private PostgreSQL server for tests that stop it or need roles."""
    server = PostgresServer()
    server.init()
    server.start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
def own_database(own_postgres: PostgresServer) -> Iterator[str]:
    """Create a database on the private server for one test."""
    if not own_postgres.running:
        own_postgres.start()
    name = unique_name("own")
    own_postgres.psql(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        if not own_postgres.running:
            own_postgres.start()
        own_postgres.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def telemetry_store(
    socket_enabled: None, telemetry_dsn: Dsn, pg_schema: str, tmp_path: Path
) -> AsyncIterator[TelemetryStore]:
    """A started store on this test's schema (no periodic jobs), stopped at the end."""
    store = TelemetryStore(
        TelemetryConfig(
            dsn=telemetry_dsn,
            spill_path=tmp_path / "spill",
            schema=pg_schema,
            writer=replace(FAST, rollups=True),
            rollup_interval=None,
            retention_interval=None,
        )
    )
    await store.start()
    try:
        yield store
    finally:
        await store.stop()
