"""The writer against the real PostgreSQL: COPY ingest, registration, wrong types."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest

from custom_components.makerhub.core.schema import Direction, VarType, parse_makerhub_json
from custom_components.makerhub.core.telemetry import (
    Dsn,
    TelemetryWriter,
    VariableInfo,
    WriterSettings,
    WrongTypePolicy,
    sample_variable,
    schema_variables,
)

from .telemetry_helpers import FAST, T0, at, stored, wait_for

type MakeWriter = Callable[..., Awaitable[TelemetryWriter]]


@pytest.fixture
async def make_writer(
    socket_enabled: None, telemetry_dsn: Dsn, pg_schema: str, tmp_path: Path
) -> AsyncIterator[MakeWriter]:
    """Start writers on this test's schema; stop them all at the end."""
    writers: list[TelemetryWriter] = []

    async def make(settings: WriterSettings = FAST, spill: str = "spill") -> TelemetryWriter:
        writer = TelemetryWriter(
            telemetry_dsn, tmp_path / spill, schema=pg_schema, settings=settings
        )
        await writer.start()
        writers.append(writer)
        return writer

    yield make
    for writer in writers:
        await writer.stop()


async def test_copy_ingest_stores_every_sample(
    make_writer: MakeWriter, pg_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    """25,000 samples of mixed types arrive in order, each in the right column."""
    writer: TelemetryWriter = await make_writer()
    expected = []
    for i in range(25_000):
        unit = f"unit{i % 4}"
        if i % 10 == 0:
            writer.submit(unit, "mode", f"mode {i}", at(i / 1000))
            expected.append((at(i / 1000), unit, "mode", None, f"mode {i}"))
        elif i % 10 == 1:
            writer.submit(unit, "on", i % 20 == 1, at(i / 1000))
            expected.append((at(i / 1000), unit, "on", 1.0 if i % 20 == 1 else 0.0, None))
        else:
            writer.submit(unit, "temp", i / 8, at(i / 1000))
            expected.append((at(i / 1000), unit, "temp", i / 8, None))
    assert await writer.flush(within=20)
    counters = writer.counters
    assert (counters.written, counters.buffered, counters.spilled, counters.dropped) == (
        25_000,
        0,
        0,
        0,
    )
    assert counters.connected
    assert await stored(pg_conn, "time, unit, variable") == sorted(
        expected, key=lambda row: (row[0], row[1], row[2])
    )
    pairs = await pg_conn.fetch("SELECT unit, variable FROM variables ORDER BY 1, 2")
    assert [tuple(p) for p in pairs] == sorted({(row[1], row[2]) for row in expected})
    assert len(pairs) == 8
    assert not (tmp_path / "spill").exists()


async def test_partial_batch_is_flushed_by_time(
    make_writer: MakeWriter, pg_conn: asyncpg.Connection
) -> None:
    """Fewer samples than a batch are written within the flush interval, without flush()."""
    writer: TelemetryWriter = await make_writer(replace(FAST, flush_interval=0.3))
    for i in range(7):
        writer.submit("u1", "temp", float(i), at(i))
    await asyncio.sleep(0.05)
    assert writer.counters.written == 0  # not yet: below batch size and before the interval
    await wait_for(lambda: writer.counters.written == 7, within=2)
    assert [row[3] for row in await stored(pg_conn)] == [float(i) for i in range(7)]


async def test_registration_fills_units_and_variables(
    make_writer: MakeWriter, pg_conn: asyncpg.Connection
) -> None:
    """Registered names and types land in units/variables; an input clashing is '.in'."""
    schema = parse_makerhub_json(
        {
            "name": "Reactor",
            "outputs": {
                "temp": {"type": "float", "unit": "°C", "device_class": "temperature"},
                "fan": {"type": "bool"},
            },
            "inputs": {"fan": {"type": "bool"}, "target": {"type": "int"}},
        }
    )
    writer: TelemetryWriter = await make_writer()
    writer.catalog.register_unit("abc123def456", "Reactor", "rpi")
    for info in schema_variables("abc123def456", schema, {"temp": "long"}):
        writer.catalog.register_variable(info)
    assert sample_variable(schema, Direction.INPUT, "fan") == "fan.in"
    assert sample_variable(schema, Direction.INPUT, "target") == "target"
    writer.submit("abc123def456", "temp", "21.25", T0)  # text payload of a float variable
    writer.submit("abc123def456", "fan.in", "on", T0)
    assert await writer.flush(within=5)
    unit = await pg_conn.fetchrow("SELECT name, model FROM units WHERE unit = 'abc123def456'")
    assert tuple(unit) == ("Reactor", "rpi")
    rows = await pg_conn.fetch(
        "SELECT variable, type, direction, unit_of_measurement, device_class, retention_class "
        "FROM variables ORDER BY variable"
    )
    assert [tuple(r) for r in rows] == [
        ("fan", "bool", "outputs", None, None, "default"),
        ("fan.in", "bool", "inputs", None, None, "default"),
        ("target", "int", "inputs", None, None, "default"),
        ("temp", "float", "outputs", "°C", "temperature", "long"),
    ]
    assert [row[2:4] for row in await stored(pg_conn, "variable")] == [
        ("fan.in", 1.0),
        ("temp", 21.25),
    ]


async def test_variable_declared_again_without_type_takes_any_value(
    make_writer: MakeWriter, pg_conn: asyncpg.Connection
) -> None:
    """A variable whose new declaration drops its type no longer refuses text values."""
    writer: TelemetryWriter = await make_writer(replace(FAST, wrong_type=WrongTypePolicy.REJECT))
    writer.catalog.register_variable(VariableInfo("u1", "state", VarType.FLOAT))
    writer.submit("u1", "state", "idle", at(0))  # refused: not a float
    writer.catalog.register_variable(VariableInfo("u1", "state", None))
    writer.submit("u1", "state", "heating", at(1))
    assert await writer.flush(within=5)
    assert [row[2:] for row in await stored(pg_conn)] == [("state", None, "heating")]
    assert writer.rejected_by_issue == {"wrong_type": 1}
    assert await pg_conn.fetchval("SELECT type FROM variables WHERE variable = 'state'") is None


async def test_forgotten_unit_keeps_no_types_and_writes_no_registration(
    make_writer: MakeWriter, pg_conn: asyncpg.Connection
) -> None:
    """A unit forgotten before the next batch: its types stop applying, its name is not written.

    Its samples are still stored, and its other units' registrations are not affected.
    """
    writer: TelemetryWriter = await make_writer(replace(FAST, wrong_type=WrongTypePolicy.REJECT))
    writer.catalog.register_unit("gone", "Old reactor", "rpi")
    writer.catalog.register_variable(VariableInfo("gone", "temp", VarType.FLOAT))
    writer.catalog.register_unit("kept", "New reactor", "rpi")
    writer.catalog.register_variable(VariableInfo("kept", "temp", VarType.FLOAT))
    writer.catalog.forget_unit("gone")
    writer.submit("gone", "temp", "overheated", at(0))
    writer.submit("kept", "temp", "overheated", at(1))  # refused: still typed
    assert await writer.flush(within=5)
    assert [row[1:] for row in await stored(pg_conn)] == [("gone", "temp", None, "overheated")]
    assert writer.rejected_by_issue == {"wrong_type": 1}
    units = await pg_conn.fetch("SELECT unit, name FROM units ORDER BY unit")
    assert [tuple(row) for row in units] == [("gone", None), ("kept", "New reactor")]
    variables = await pg_conn.fetch("SELECT unit, type FROM variables ORDER BY unit")
    assert [tuple(row) for row in variables] == [("gone", None), ("kept", "float")]


@pytest.mark.parametrize("policy", list(WrongTypePolicy))
async def test_wrong_types_are_stored_as_text_or_rejected(
    make_writer: MakeWriter, pg_conn: asyncpg.Connection, policy: WrongTypePolicy
) -> None:
    """Wrong-type values follow the policy; refused values are counted; writing goes on."""
    writer: TelemetryWriter = await make_writer(replace(FAST, wrong_type=policy))
    writer.catalog.register_variable(VariableInfo("u1", "temp", VarType.FLOAT))
    writer.catalog.register_variable(VariableInfo("u1", "door", VarType.BOOL))
    writer.submit("u1", "temp", 20.0, at(0))
    writer.submit("u1", "temp", "overheated", at(1))  # wrong type
    writer.submit("u1", "door", "ajar", at(2))  # wrong type
    writer.submit("u1", "temp", None, at(3))  # no value: always refused
    writer.submit("u1", "note", "bad\x00text", at(4))  # NUL: always refused
    writer.submit("u1", "temp", 21.0, at(5))
    assert await writer.flush(within=5)
    rows = [row[2:] for row in await stored(pg_conn)]
    counters = writer.counters
    if policy is WrongTypePolicy.STORE_AS_TEXT:
        assert rows == [
            ("temp", 20.0, None),
            ("temp", None, "overheated"),
            ("door", None, "ajar"),
            ("temp", 21.0, None),
        ]
        assert (counters.stored_as_text, counters.rejected) == (2, 2)
        assert writer.rejected_by_issue == {"no_value": 1, "invalid_text": 1}
    else:
        assert rows == [("temp", 20.0, None), ("temp", 21.0, None)]
        assert (counters.stored_as_text, counters.rejected) == (0, 4)
        assert writer.rejected_by_issue == {"wrong_type": 2, "no_value": 1, "invalid_text": 1}
    assert "note" not in {row[2] for row in rows}
    assert counters.dropped == 0
    assert counters.last_error is not None
    assert "u1/note: value refused (invalid_text)" in counters.last_error


async def test_row_the_server_refuses_is_isolated_and_dropped(
    make_writer: MakeWriter, pg_conn: asyncpg.Connection
) -> None:
    """One unencodable text in a batch: only it is dropped, the rest keep their order."""
    writer: TelemetryWriter = await make_writer()
    for i in range(300):
        text = "broken \ud800 surrogate" if i == 137 else f"fine {i}"
        writer.submit("u1", "log", text, at(i))
    assert await writer.flush(within=5)
    texts = [row[4] for row in await stored(pg_conn)]
    assert texts == [f"fine {i}" for i in range(300) if i != 137]
    counters = writer.counters
    assert (counters.written, counters.dropped) == (299, 1)
    assert counters.last_error is not None
    assert "refused a sample of u1/log" in counters.last_error


async def test_submit_after_stop_is_counted_as_dropped(
    socket_enabled: None, telemetry_dsn: Dsn, pg_schema: str, tmp_path: Path
) -> None:
    """A value submitted to a stopped writer is not silently lost: it is counted."""
    writer = TelemetryWriter(telemetry_dsn, tmp_path / "spill", schema=pg_schema, settings=FAST)
    await writer.start()
    await writer.stop()
    writer.submit("u1", "temp", 1.0)
    assert writer.counters.dropped == 1
    assert "after the writer stopped" in (writer.counters.last_error or "")
