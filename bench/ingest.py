"""Benchmark: unit outputs through a real Mosquitto into a real Home Assistant.

N simulated thermometers (makerhub-sim, one MQTT connection each, QoS 1) publish R output
messages per second each for D seconds. The same stream is consumed, in the same run, by:

* **Makerhub**: the units adopted by the hub (entities coalesced to one write per second);
* **baseline**: Home Assistant's own MQTT sensors, created through MQTT discovery, one per
  output topic, subscribed at QoS 1 like the hub.

Each system gets its own Home Assistant process and broker. Measured for each: output
messages fully processed per second (published messages over the time from the first
publish until Home Assistant has consumed the last one), messages lost (Makerhub counts
what it accepted; the baseline offers no count), whether every entity's final state is
the last value its unit published, Home Assistant's CPU over that window, and its RSS
growth per unit (before any unit existed vs after the run).

Both Home Assistant processes run with jemalloc preloaded and configured as Home
Assistant's own container image (and so Home Assistant OS) runs it: its
``rootfs/etc/services.d/home-assistant/run`` sets ``LD_PRELOAD`` and ``MALLOC_CONF``
(a background thread returns freed pages to the system 20 s after they were last used).
``--allocator glibc`` measures them with the C library's malloc instead.

Run: ``scripts/bench ingest [--units 1000 --rate 10 --seconds 30 --allocator glibc]``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import contextlib
from dataclasses import dataclass
import json
import math
import os
from pathlib import Path
import subprocess
import sys
import tempfile
import time
import uuid

import asyncpg
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench.sim_fleet import prepare_state
from custom_components.makerhub.const import DEFAULT_UPDATE_INTERVAL
from custom_components.makerhub.core.schema import parse_makerhub_json
from dev.processes.hass_process import HassClient, HassProcess
from dev.processes.mosquitto import MosquittoBroker
from makerhub_unit.fleet import FleetConfig, ensure_file_limit
from makerhub_unit.sim_kinds import KINDS

REPO = Path(__file__).resolve().parents[1]
SDK = REPO / "sdk" / "python"

KIND = "thermometer"
SCHEMA = parse_makerhub_json(KINDS[KIND].schema)
OUTPUTS = tuple(SCHEMA.outputs)
JEMALLOC = next(iter(sorted(Path("/usr/lib").glob("*/libjemalloc.so.2"))), None)
"""Debian's jemalloc (package libjemalloc2), preloaded the way Home Assistant's image does."""
JEMALLOC_CONF = "background_thread:true,metadata_thp:auto,dirty_decay_ms:20000,muzzy_decay_ms:20000"
"""Home Assistant's image's ``MALLOC_CONF`` for jemalloc."""
DRAIN_IDLE = 10.0
"""Seconds without progress after which the drain is over (whatever is missing is lost)."""


@dataclass
class Unit:
    """One benchmark unit: how the simulator and both systems know it."""

    announce_id: str
    uid: str
    name: str

    @property
    def slug(self) -> str:
        """Return the entity id part: ``Bench 12`` → ``bench_12``."""
        return self.name.lower().replace(" ", "_")


@dataclass
class Run:
    """One system's measurements."""

    system: str
    units: int
    published: int
    processed: int | None
    publish_seconds: float
    drain_seconds: float
    cpu_seconds: float
    rss_before: int
    rss_loaded: int
    """With the units' entities created, before any unit connects."""
    rss_settled: int
    """With the units connected and reporting state, before the stream."""
    rss_after: int
    correct: int
    checked: int
    stored: int | None = None
    """Samples in the telemetry database after the run (with ``telemetry_url``)."""

    @property
    def wall_seconds(self) -> float:
        """Return the time from the first publish until the last message was consumed."""
        return self.publish_seconds + self.drain_seconds

    @property
    def rate(self) -> float:
        """Return messages fully processed per second."""
        return self.published / self.wall_seconds

    @property
    def cpu_share(self) -> float:
        """Return Home Assistant's CPU use as a share of one core."""
        return self.cpu_seconds / self.wall_seconds

    @property
    def cpu_per_1000(self) -> float:
        """Return Home Assistant's CPU milliseconds per 1000 messages."""
        return 1e6 * self.cpu_seconds / self.published if self.published else math.inf

    @property
    def rss_per_unit(self) -> float:
        """Return RSS growth per unit, in KiB."""
        return (self.rss_after - self.rss_before) / 1024 / self.units


def allocator_env(allocator: str) -> dict[str, str]:
    """Return the environment that makes Home Assistant use ``allocator``."""
    if allocator == "glibc":
        return {}
    if JEMALLOC is None:
        raise SystemExit("jemalloc is not installed (apt-get install libjemalloc2)")
    return {"LD_PRELOAD": str(JEMALLOC), "MALLOC_CONF": JEMALLOC_CONF}


def plan(config: FleetConfig) -> list[Unit]:
    """Return the units, with the uids ``prepare_state`` gives them."""
    return [
        Unit(announce_id, f"{index:012x}", f"Bench {index + 1}")
        for index, (announce_id, _kind) in enumerate(config.plan())
    ]


def seed_makerhub_units(config_dir: Path, units: list[Unit]) -> None:
    """Store the units as adopted subentries of the hub (as N adoptions would)."""
    path = config_dir / ".storage" / "core.config_entries"
    storage = json.loads(path.read_text())
    entry = next(e for e in storage["data"]["entries"] if e["domain"] == "makerhub")
    schema = SCHEMA.to_json()
    entry["subentries"] = [
        {
            "data": {
                "uid": unit.uid,
                "announce_id": unit.announce_id,
                "model": f"makerhub-sim {KIND}",  # what the units announce
                "schema": schema,
            },
            "subentry_id": uuid.uuid4().hex,
            "subentry_type": "unit",
            "title": unit.name,
            "unique_id": unit.uid,
        }
        for unit in units
    ]
    path.write_text(json.dumps(storage))


def publish_discovery(broker: MosquittoBroker, units: list[Unit]) -> None:
    """Create the baseline's MQTT sensors: one retained discovery config per output."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-discovery")
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        for unit in units:
            for name in OUTPUTS:
                variable = SCHEMA.outputs[name]
                config = {
                    "name": name.capitalize(),
                    "object_id": f"{unit.slug}_{name}",
                    "unique_id": f"{unit.uid}_{name}",
                    "state_topic": f"makerhub/{unit.uid}/out/{name}",
                    "availability_topic": f"makerhub/{unit.uid}/sys/status",
                    "unit_of_measurement": variable.unit,
                    "device_class": variable.device_class,
                    "state_class": variable.state_class,
                    "suggested_display_precision": variable.precision,
                    "qos": 1,
                    "device": {"identifiers": [unit.uid], "name": unit.name},
                }
                client.publish(
                    f"homeassistant/sensor/{unit.uid}_{name}/config",
                    json.dumps(config),
                    qos=1,
                    retain=True,
                ).wait_for_publish(30)
    finally:
        client.disconnect()
        client.loop_stop()


async def wait_entities(client: HassClient, units: list[Unit]) -> None:
    """Wait until every unit's output entities exist."""
    wanted = {f"sensor.{unit.slug}_{name}" for unit in units for name in OUTPUTS}
    await client.wait_for(
        client.states, lambda states: wanted <= set(states), 300, f"{len(wanted)} entities"
    )


async def final_states(client: HassClient, values_log: Path, units: list[Unit]) -> int:
    """Return how many entities show the last value their unit published."""
    last = {
        record["uid"]: record["outputs"]
        for record in map(json.loads, values_log.read_text().splitlines())
    }
    states = await client.states()
    correct = 0
    for unit in units:
        for name in OUTPUTS:
            state = states.get(f"sensor.{unit.slug}_{name}", {}).get("state")
            expected = last.get(unit.uid, {}).get(name)
            with contextlib.suppress(TypeError, ValueError):
                correct += expected is not None and math.isclose(float(state), expected)
    return correct


def start_fleet(
    broker: MosquittoBroker, state_dir: Path, values_log: Path, args: argparse.Namespace
) -> subprocess.Popen[str]:
    """Start makerhub-sim for the measured run."""
    return subprocess.Popen(
        [
            sys.executable, "-m", "makerhub_unit.sim",
            "--host", broker.host, "--port", str(broker.port),
            "--units", str(args.units), "--kinds", KIND, "--rate", str(args.rate),
            "--stream-after", str(args.settle), "--stream-seconds", str(args.seconds),
            "--qos", "1", "--state-interval", "20",
            "--state-dir", str(state_dir), "--id-prefix", "bench",
            "--values-log", str(values_log),
        ],
        env={**os.environ, "PYTHONPATH": f"{SDK}:{REPO}"},
        stdout=subprocess.PIPE,
        stderr=(state_dir.parent / "fleet-stderr.log").open("w"),
        text=True,
    )  # fmt: skip


def wait_line(fleet: subprocess.Popen[str], prefix: str) -> str:
    """Return the rest of the next line makerhub-sim prints starting with ``prefix``."""
    assert fleet.stdout is not None
    for line in fleet.stdout:
        if line.startswith(prefix):
            return line.removeprefix(prefix).strip()
    raise RuntimeError("makerhub-sim ended early; see fleet-stderr.log")


def parse_published(line: str) -> int:
    """Return how many outputs makerhub-sim's summary line says it published."""
    words = line.split()
    return int(words[words.index("messages") - 1])


async def enable_telemetry(client: HassClient, url: str) -> None:
    """Turn the hub's telemetry on through its options flow."""
    entry_id = (await client.entries("makerhub"))[0]["entry_id"]
    result = await client.options_flow(
        entry_id,
        {"next_step_id": "telemetry"},
        {"telemetry_dsn": url, "telemetry_retention_days": 90, "telemetry_rollups": False},
    )
    if result["type"] != "create_entry":
        raise RuntimeError(f"telemetry options refused: {result}")


async def count_samples(url: str) -> int:
    """Return how many samples the telemetry database holds."""
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM samples"))
    finally:
        await conn.close()


async def measure(
    system: str, work: Path, args: argparse.Namespace, telemetry_url: str | None = None
) -> Run:
    """Run one system: idle RSS, then the units, the stream, the drain.

    With ``telemetry_url`` (Makerhub only) the hub also writes every value to that
    PostgreSQL database, and the drain lasts until the database has them all.
    """
    config = FleetConfig(units=args.units, kinds=(KIND,), id_prefix="bench")
    units = plan(config)
    state_dir = work / "fleet"
    prepare_state(state_dir, config)
    broker = MosquittoBroker(work / "mosquitto", persistence=False)
    broker.start()
    hass = HassProcess(
        work / "config",
        with_makerhub=system == "makerhub",
        # As every Home Assistant has it (default_config): states go to the database.
        extra_config="recorder:\n" if args.recorder else "",
        env=allocator_env(args.allocator),
    )
    client: HassClient | None = None
    try:
        # 1. Home Assistant with MQTT (and the hub), no unit yet: the memory baseline,
        # read after a restart so both readings come from a process started the same way.
        client = await HassClient.start(hass)
        await client.setup_mqtt(broker.host, broker.port)
        if system == "makerhub":
            await client.setup_makerhub()
            if telemetry_url is not None:
                await enable_telemetry(client, telemetry_url)
        await client.close()
        hass.stop()
        client = await HassClient.start(hass)
        await asyncio.sleep(5)
        rss_before = hass.rss_bytes()
        await client.close()
        hass.stop()

        # 2. The units exist (adopted, or discovered), Home Assistant restarts with them.
        if system == "makerhub":
            seed_makerhub_units(hass.config_dir, units)
        else:
            publish_discovery(broker, units)
        client = await HassClient.start(hass)
        await wait_entities(client, units)
        # Creating thousands of registry entries at once is a one-off burst (the recorder
        # records every registry event); restart so what is measured is running units.
        await client.close()
        hass.stop()
        client = await HassClient.start(hass)
        await wait_entities(client, units)
        entry_id = (await client.entries("makerhub"))[0]["entry_id"] if system == "makerhub" else ""

        # 3. The stream.
        # The units connect and report state for a while (Home Assistant settles: devices
        # get their versions, the recorder catches up), then the measured stream starts.
        values_log = work / "values.jsonl"
        rss_loaded = hass.rss_bytes()
        fleet = start_fleet(broker, state_dir, values_log, args)
        try:
            await asyncio.to_thread(wait_line, fleet, "stream started")
            rss_settled = hass.rss_bytes()
            cpu_start, stream_start = hass.cpu_seconds(), time.monotonic()
            profiler = None
            if args.profile:
                profiler = subprocess.Popen(
                    [
                        str(Path(sys.executable).with_name("py-spy")), "record", "--format", "raw",
                        "--duration", str(int(args.seconds)), "--rate", "200",
                        "--pid", str(hass.process.pid if hass.process else 0),
                        "--output", str(args.profile / f"{system}.txt"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )  # fmt: skip
            summary = await asyncio.to_thread(wait_line, fleet, "stream done: ")
        except BaseException:
            fleet.kill()
            raise
        publish_seconds = time.monotonic() - stream_start
        published = parse_published(summary)
        if profiler is not None:
            profiler.wait()

        # 4. The drain: until everything is consumed, or nothing moves for DRAIN_IDLE s.
        drain_start = time.monotonic()
        processed: int | None = None
        last_progress, last_seen = drain_start, -1
        while time.monotonic() - last_progress < DRAIN_IDLE:
            if system == "makerhub":
                diagnostics = await client.get(f"/api/diagnostics/config_entry/{entry_id}")
                hub = diagnostics["data"]["hub"]
                processed = hub["output_values"]
                seen = processed
                done = processed >= published
                if telemetry_url is not None:
                    written = hub["telemetry"]["counters"]["written"]
                    seen += written
                    done = done and written >= processed
            else:
                seen = await final_states(client, values_log, units)
                done = seen == len(units) * len(OUTPUTS)
            if done:
                break
            if seen != last_seen:
                last_progress, last_seen = time.monotonic(), seen
            await asyncio.sleep(0.5)
        drain_seconds = time.monotonic() - drain_start
        cpu_seconds = hass.cpu_seconds() - cpu_start
        await asyncio.sleep(DEFAULT_UPDATE_INTERVAL + 1)  # the last coalesced writes land
        correct = await final_states(client, values_log, units)
        rss_after = hass.rss_bytes()
        stored = None if telemetry_url is None else await count_samples(telemetry_url)
        fleet.terminate()
        fleet.wait(timeout=60)
        print(f"  {system}: {summary}", file=sys.stderr)
        return Run(
            system=system,
            units=len(units),
            published=published,
            processed=processed,
            publish_seconds=publish_seconds,
            drain_seconds=drain_seconds,
            cpu_seconds=cpu_seconds,
            rss_before=rss_before,
            rss_loaded=rss_loaded,
            rss_settled=rss_settled,
            rss_after=rss_after,
            correct=correct,
            checked=len(units) * len(OUTPUTS),
            stored=stored,
        )
    finally:
        if client is not None:
            await client.close()
        hass.stop()
        broker.stop()


def print_table(args: argparse.Namespace, runs: list[Run]) -> None:
    """Print the comparison."""
    makerhub, baseline = runs
    print(
        f"\ningest: {args.units} units x {args.rate:g} msg/s = {args.units * args.rate:,.0f} "
        f"msg/s offered for {args.seconds:g} s, QoS 1, one hass process per system, "
        f"recorder {'on' if args.recorder else 'off'}, allocator {args.allocator}\n"
    )
    header = (
        f"{'system':<26}{'published':>10}{'processed/s':>13}{'lost':>7}{'final ok':>13}"
        f"{'drain s':>9}{'CPU %':>7}{'CPU ms/1k':>11}{'RSS KiB/unit':>14}"
    )
    print(header)
    print("-" * len(header))
    for run in runs:
        lost = "n/a" if run.processed is None else str(run.published - run.processed)
        print(
            f"{run.system:<26}{run.published:>10,}{run.rate:>13,.0f}{lost:>7}"
            f"{f'{run.correct}/{run.checked}':>13}{run.drain_seconds:>9.1f}"
            f"{100 * run.cpu_share:>7.0f}{run.cpu_per_1000:>11.1f}{run.rss_per_unit:>14.1f}"
        )
    print("\nRSS growth per unit (KiB) over the empty instance, by phase:")
    for run in runs:
        phases = (
            ("entities created", run.rss_loaded),
            ("units online", run.rss_settled),
            ("after the stream", run.rss_after),
        )
        print(
            f"  {run.system:<26}"
            + "  ".join(
                f"{name} {(rss - run.rss_before) / 1024 / run.units:6.1f}" for name, rss in phases
            )
        )
    print(
        f"\nMakerhub / baseline: throughput x{makerhub.rate / baseline.rate:.2f}, "
        f"CPU per message x{makerhub.cpu_per_1000 / baseline.cpu_per_1000:.2f} "
        f"(baseline needs x{baseline.cpu_per_1000 / makerhub.cpu_per_1000:.2f} the CPU)"
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run both systems and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10.0, help="messages/s per unit")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the stream")
    parser.add_argument(
        "--settle", type=float, default=30.0, help="seconds of state-only traffic first"
    )
    parser.add_argument(
        "--no-recorder",
        dest="recorder",
        action="store_false",
        help="run Home Assistant without its recorder (the state database)",
    )
    parser.add_argument(
        "--allocator",
        choices=("jemalloc", "glibc"),
        default="jemalloc",
        help="Home Assistant's malloc: jemalloc as its container image has it, or glibc's",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="record Home Assistant with py-spy during the stream into DIR/<system>.txt",
    )
    args = parser.parse_args(argv)
    ensure_file_limit(args.units + 256)  # the broker inherits it: one socket per unit
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        for system in ("makerhub", "baseline: HA MQTT sensors"):
            key = "makerhub" if system == "makerhub" else "baseline"
            print(f"running {system} ...", file=sys.stderr)
            run = asyncio.run(measure(key, Path(tmp) / key, args))
            run.system = system
            runs.append(run)
    print_table(args, runs)


if __name__ == "__main__":
    main()
