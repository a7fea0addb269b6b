"""Telemetry ingest: the batched COPY writer against one INSERT per sample.

Run: ``scripts/bench telemetry [--samples N] [--baseline-samples N] [--dsn URL]
[--e2e-units N --e2e-rate R --e2e-seconds S]``.

Both rows write the same kind of samples (20 units x 10 variables, float values, time =
now) into identical freshly migrated tables (same indexes), each in its own schema of a
database created for the run on the shared server (127.0.0.1:5432) and dropped after.

* baseline: one ``INSERT`` per sample in its own transaction, awaited before the next,
  which is how the LTSS add-on writes each state change.
* writer: :class:`TelemetryWriter` with its default settings; the producer submits as
  fast as the writer drains (it pauses while more than half the memory buffer is full,
  so nothing spills), and the clock stops when every sample is committed. Lost samples
  are checked by counting rows in the table.

* end to end: the core-loop benchmark's stream (``bench/ingest.py``: makerhub-sim units,
  a real Mosquitto, a real ``hass``) with the hub's telemetry writing into the same
  database; the clock stops when the database holds every published value.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import os
from pathlib import Path
import subprocess
import sys
import tempfile
import time

import asyncpg

from bench import ingest
from custom_components.makerhub.core.telemetry import Dsn, TelemetryWriter, WriterSettings
from custom_components.makerhub.core.telemetry.dsn import connect
from custom_components.makerhub.core.telemetry.migrations import migrate
from makerhub_unit.fleet import ensure_file_limit

UNITS = [f"unit{u:02d}" for u in range(20)]
VARIABLES = [f"var{v}" for v in range(10)]
TARGET_RATE = 100_000
TARGET_RATIO = 20.0
DRAIN_LIMIT = 5.0


@dataclass(frozen=True)
class Result:
    """One measured row of the table."""

    name: str
    samples: int
    seconds: float
    lost: int
    drain: float = 0.0
    """Seconds from the last publish until the database held everything (end to end)."""

    @property
    def rate(self) -> float:
        """Return samples per second."""
        return self.samples / self.seconds


@dataclass(frozen=True)
class Options:
    """What a measurement needs."""

    dsn: Dsn
    samples: int
    baseline_samples: int
    e2e_units: int = 1000
    e2e_rate: float = 10.0
    e2e_seconds: float = 30.0


async def _fresh_schema(dsn: Dsn, schema: str) -> asyncpg.Connection:
    conn = await connect(dsn, schema=schema)
    await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await migrate(conn, schema)
    return conn


async def _count(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM samples"))


async def measure_baseline(options: Options) -> Result:
    """One INSERT per sample, each its own transaction (autocommit)."""
    conn = await _fresh_schema(options.dsn, "bench_baseline")
    try:
        insert = await conn.prepare(
            "INSERT INTO samples (time, unit, variable, value, text_value) "
            "VALUES (now(), $1, $2, $3, NULL)"
        )
        n = options.baseline_samples
        started = time.perf_counter()
        for i in range(n):
            await insert.fetch(UNITS[i % 20], VARIABLES[i // 20 % 10], i * 0.1)
        seconds = time.perf_counter() - started
        return Result(
            "baseline: INSERT per sample, own transaction", n, seconds, n - await _count(conn)
        )
    finally:
        await conn.close()


async def measure_writer(options: Options) -> Result:
    """The telemetry writer: submit() on the loop, batched COPY in the background."""
    conn = await _fresh_schema(options.dsn, "bench_writer")
    settings = WriterSettings()
    with tempfile.TemporaryDirectory() as spill_dir:
        writer = TelemetryWriter(
            options.dsn, Path(spill_dir) / "spill", schema="bench_writer", settings=settings
        )
        await writer.start()
        try:
            n = options.samples
            high_water = settings.buffer_limit // 2
            submit = writer.submit
            started = time.perf_counter()
            for i in range(n):
                submit(UNITS[i % 20], VARIABLES[i // 20 % 10], i * 0.1)
                if i % 1000 == 999:
                    await asyncio.sleep(0)
                    while writer.counters.buffered > high_water:
                        await asyncio.sleep(0.001)
            if not await writer.flush(within=600):
                raise RuntimeError("the writer did not finish")
            seconds = time.perf_counter() - started
            counters = writer.counters
            if counters.spilled_total or counters.dropped:
                print(f"note: spilled {counters.spilled_total}, dropped {counters.dropped}")
        finally:
            await writer.stop()
    try:
        return Result("writer: batched COPY (raw writer)", n, seconds, n - await _count(conn))
    finally:
        await conn.close()


async def measure_end_to_end(options: Options) -> Result:
    """MQTT -> Home Assistant -> PostgreSQL: the core-loop benchmark's stream, recorded.

    makerhub-sim units publish through a real Mosquitto into a real ``hass`` whose hub has
    telemetry on; the clock runs from the first publish until the database holds every
    value (lost = published - rows in ``samples``).
    """
    args = argparse.Namespace(
        units=options.e2e_units,
        rate=options.e2e_rate,
        seconds=options.e2e_seconds,
        settle=20.0,
        recorder=False,
        allocator="jemalloc",
        profile=None,
    )
    ensure_file_limit(args.units + 256)
    with tempfile.TemporaryDirectory(prefix="bench-telemetry-") as tmp:
        run = await ingest.measure("makerhub", Path(tmp), args, options.dsn.reveal())
    assert run.stored is not None
    return Result(
        f"end to end: {args.units} units x {args.rate:g} msg/s, MQTT -> HA -> PostgreSQL",
        run.published,
        run.wall_seconds,
        run.published - run.stored,
        run.drain_seconds,
    )


MEASUREMENTS: list[Callable[[Options], Awaitable[Result]]] = [
    measure_baseline,
    measure_writer,
    measure_end_to_end,
]
"""Rows of the table, in order; the first is the baseline the others are compared with."""


def print_table(results: list[Result]) -> None:
    """Print the results as a Markdown table with ratios to the first row."""
    baseline = results[0].rate
    print("| measurement | samples | seconds | samples/s | vs baseline | lost | drain s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for result in results:
        print(
            f"| {result.name} | {result.samples:,} | {result.seconds:.2f} | "
            f"{result.rate:,.0f} | {result.rate / baseline:.1f}x | {result.lost} | "
            f"{result.drain:.1f} |"
        )


def _psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-X", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c", sql],
        check=True,
    )


async def run(options: Options) -> list[Result]:
    """Run every measurement in order."""
    return [await measure(options) for measure in MEASUREMENTS]


def main() -> int:
    """Parse arguments, run, print, and say whether the targets are met."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--baseline-samples", type=int, default=5_000)
    parser.add_argument("--dsn", help="use this database instead of a fresh one on :5432")
    parser.add_argument("--e2e-units", type=int, default=1000)
    parser.add_argument("--e2e-rate", type=float, default=10.0, help="messages/s per unit")
    parser.add_argument("--e2e-seconds", type=float, default=30.0)
    args = parser.parse_args()
    database = None
    if args.dsn:
        dsn = Dsn(args.dsn)
    else:
        database = f"makerhub_bench_telemetry_{os.getpid()}"
        _psql(f'CREATE DATABASE "{database}"')
        dsn = Dsn(f"postgresql://postgres@127.0.0.1:5432/{database}")
    try:
        options = Options(
            dsn,
            args.samples,
            args.baseline_samples,
            args.e2e_units,
            args.e2e_rate,
            args.e2e_seconds,
        )
        results = asyncio.run(run(options))
    finally:
        if database:
            _psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    print_table(results)
    writer, end_to_end = results[1], results[2]
    ratio = writer.rate / results[0].rate
    ok = writer.rate >= TARGET_RATE and ratio >= TARGET_RATIO and writer.lost == 0
    target = args.e2e_units * args.e2e_rate
    achieved = end_to_end.samples / (end_to_end.seconds - end_to_end.drain)
    # Keeping up: the simulator really offered the target rate for the whole stream, and the
    # database held every value within DRAIN_LIMIT seconds of the last publish.
    stored_all = end_to_end.lost == 0 and end_to_end.drain <= DRAIN_LIMIT
    keeps_up = stored_all and achieved >= 0.95 * target
    print(
        f"\ntargets: writer >= {TARGET_RATE:,} samples/s and >= {TARGET_RATIO:.0f}x baseline, "
        f"0 lost: {'met' if ok else 'NOT met'}\n"
        f"end to end: the simulator offered {achieved:,.0f} of {target:,.0f} msg/s; "
        f"{'all' if stored_all else 'NOT all'} stored within {DRAIN_LIMIT:g} s of the last "
        f"publish with {end_to_end.lost} lost; keeps up with {target:,.0f} msg/s: "
        f"{'met' if keeps_up else 'NOT met'}"
    )
    ok = ok and keeps_up
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
