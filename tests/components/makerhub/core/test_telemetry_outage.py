"""Nothing lost: the database stopped mid-stream, and the process restarted with it down.

These tests stop and start a private PostgreSQL server (the shared one must stay up).
A test-only ``seq bigserial`` column on ``samples`` records the order rows were inserted
in, so "order kept" is checked on what the server saw, not on timestamps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from custom_components.makerhub.core.telemetry import Dsn, TelemetryWriter
from custom_components.makerhub.core.telemetry.dsn import connect
from custom_components.makerhub.core.telemetry.migrations import migrate
from dev.processes.postgres import PostgresServer

from .telemetry_helpers import FAST, at, wait_for

SETTINGS = replace(FAST, batch_size=500, buffer_limit=2000)


@pytest.fixture
async def own_dsn(
    socket_enabled: None, own_postgres: PostgresServer, own_database: str
) -> AsyncIterator[Dsn]:
    """The private server's database, migrated, with an insertion-order column."""
    dsn = Dsn(own_postgres.dsn(own_database))
    conn = await connect(dsn)
    try:
        await migrate(conn, "public")
        await conn.execute("ALTER TABLE samples ADD COLUMN seq bigserial")
    finally:
        await conn.close()
    yield dsn
    if not own_postgres.running:
        own_postgres.start()


async def inserted_values(dsn: Dsn) -> list[float]:
    """Return the stored values in the order the server inserted them."""
    conn = await connect(dsn)
    try:
        return [row["value"] for row in await conn.fetch("SELECT value FROM samples ORDER BY seq")]
    finally:
        await conn.close()


def submit_range(writer: TelemetryWriter, start: int, stop: int) -> None:
    """Submit values start..stop-1, each its own index, one millisecond apart."""
    for i in range(start, stop):
        writer.submit(f"unit{i % 3}", "temp", float(i), at(i / 1000))


async def test_database_stopped_mid_stream(
    own_postgres: PostgresServer, own_dsn: Dsn, tmp_path: Path
) -> None:
    """Samples are buffered, then spilled, while the server is down; all written after."""
    writer = TelemetryWriter(own_dsn, tmp_path / "spill", settings=SETTINGS)
    await writer.start()
    try:
        submit_range(writer, 0, 3000)
        assert await writer.flush(within=10)
        assert writer.counters.written == 3000

        own_postgres.stop("fast")
        submit_range(writer, 3000, 4000)
        await wait_for(lambda: not writer.counters.connected)
        assert writer.counters.written == 3000
        assert writer.counters.buffered == 1000  # within the memory limit: no spill yet
        assert writer.counters.spilled == 0

        submit_range(writer, 4000, 9000)  # past buffer_limit: the oldest go to disk
        await wait_for(lambda: writer.counters.spilled > 0)
        assert writer.counters.buffered <= SETTINGS.buffer_limit
        assert writer.counters.buffered + writer.counters.spilled == 6000
        assert (tmp_path / "spill").exists()
        assert writer.counters.last_error is not None

        own_postgres.start()
        submit_range(writer, 9000, 9500)  # arriving while the backlog drains
        assert await writer.flush(within=20)
        counters = writer.counters
        assert (counters.written, counters.buffered, counters.spilled, counters.dropped) == (
            9500,
            0,
            0,
            0,
        )
        assert counters.spilled_total > 0
        assert counters.connected
    finally:
        await writer.stop()
    assert await inserted_values(own_dsn) == [float(i) for i in range(9500)]
    assert not (tmp_path / "spill").exists()


async def test_restart_with_database_down_replays_the_spill(
    own_postgres: PostgresServer, own_dsn: Dsn, tmp_path: Path
) -> None:
    """Stopping with the server down spills everything; the next writer replays it first."""
    first = TelemetryWriter(own_dsn, tmp_path / "spill", settings=SETTINGS)
    await first.start()
    submit_range(first, 0, 1000)
    assert await first.flush(within=10)
    own_postgres.stop("immediate")  # a crash: the writer learns on its next batch
    submit_range(first, 1000, 4000)
    await first.stop(grace=2)
    assert first.counters.dropped == 0
    assert first.counters.spilled == 3000
    assert first.counters.buffered == 0
    assert (tmp_path / "spill").stat().st_size > 0

    own_postgres.start()
    second = TelemetryWriter(own_dsn, tmp_path / "spill", settings=SETTINGS)
    await second.start()
    try:
        assert second.counters.spilled == 3000
        submit_range(second, 4000, 5000)  # newer than everything in the spill
        assert await second.flush(within=20)
        counters = second.counters
        assert (counters.written, counters.spilled, counters.dropped) == (4000, 0, 0)
    finally:
        await second.stop()
    assert await inserted_values(own_dsn) == [float(i) for i in range(5000)]
    assert not (tmp_path / "spill").exists()


async def test_database_down_from_the_start(
    own_postgres: PostgresServer, own_dsn: Dsn, tmp_path: Path
) -> None:
    """A writer started while the server is down buffers; it connects when it comes up."""
    own_postgres.stop("fast")
    writer = TelemetryWriter(own_dsn, tmp_path / "spill", settings=SETTINGS)
    await writer.start()
    try:
        submit_range(writer, 0, 800)
        await wait_for(lambda: writer.counters.last_error is not None)
        assert "cannot connect" in (writer.counters.last_error or "")
        assert writer.counters.buffered == 800
        assert not writer.counters.connected
        own_postgres.start()
        assert await writer.flush(within=10)
        assert writer.counters.written == 800
    finally:
        await writer.stop()
    assert await inserted_values(own_dsn) == [float(i) for i in range(800)]


async def test_full_spill_drops_and_counts(
    own_postgres: PostgresServer, own_dsn: Dsn, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Beyond memory and the spill limit samples are lost, and the counter says how many."""
    settings = replace(SETTINGS, buffer_limit=100, spill_limit_bytes=20_000)
    own_postgres.stop("fast")
    writer = TelemetryWriter(own_dsn, tmp_path / "spill", settings=settings)
    await writer.start()
    try:
        submit_range(writer, 0, 1000)
        await wait_for(lambda: writer.counters.dropped > 0)
        counters = writer.counters
        assert counters.buffered + counters.spilled + counters.dropped == 1000
        assert (tmp_path / "spill").stat().st_size <= 20_000
        assert "spill file is full" in caplog.text
        own_postgres.start()
        assert await writer.flush(within=10)
        kept = writer.counters.written
    finally:
        await writer.stop()
    values = await inserted_values(own_dsn)
    assert len(values) == kept == 1000 - writer.counters.dropped
    assert values == sorted(values)  # the survivors keep their order
