"""Benchmark: makerhub-sim at fleet scale, against a thread-per-unit baseline.

Both designs run N real MQTT clients (own connection, own Last Will) that publish R output
messages per second each, against a private Mosquitto:

* ``makerhub-sim``: the simulator as shipped, one process, one asyncio loop driving every
  paho client through paho's external-loop API;
* ``thread-per-unit``: the obvious alternative, one paho ``loop_start()`` thread per client
  and one thread producing the messages.

Each runs as its own process. The broker's ``$SYS`` counters measure what arrived; the
process's CPU time measures what it cost. Run: ``scripts/bench sim_fleet [--units N]``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
import json
import os
from pathlib import Path
import signal
import subprocess
import sys
import tempfile
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from custom_components.makerhub.core.protocol import UnitTopics, build_schema_json
from custom_components.makerhub.core.schema import parse_makerhub_json
from dev.processes.hass_process import process_cpu_seconds as cpu_seconds
from dev.processes.mosquitto import MosquittoBroker

REPO = Path(__file__).resolve().parents[1]
SDK = REPO / "sdk" / "python"
sys.path.insert(0, str(SDK))  # this checkout's SDK, whatever the venv has installed

from makerhub_unit.fleet import FleetConfig, ensure_file_limit  # noqa: E402
from makerhub_unit.sim_kinds import KINDS  # noqa: E402


@dataclass
class Result:
    """One design's measurements."""

    design: str
    units: int
    target_rate: float
    connect_seconds: float
    received_rate: float
    cpu_seconds: float
    wall_seconds: float
    summary: str

    @property
    def cpu_share(self) -> float:
        """Return the CPU used as a share of one core."""
        return self.cpu_seconds / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def cpu_per_1000(self) -> float:
        """Return CPU milliseconds per 1000 messages received."""
        messages = self.received_rate * self.wall_seconds
        return 1e6 * self.cpu_seconds / messages if messages else float("inf")


RECEIVED = "$SYS/broker/publish/messages/received"
CONNECTED = "$SYS/broker/clients/connected"


class BrokerCounters:
    """Reads Mosquitto's ``$SYS`` counters (published every second)."""

    def __init__(self, broker: MosquittoBroker) -> None:
        """Subscribe to the counters this benchmark needs."""
        self.values: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-counters")
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.subscribe([(RECEIVED, 0), (CONNECTED, 0)])
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.values[msg.topic] = (float(msg.payload), time.monotonic())

    def get(self, topic: str) -> float:
        """Return the latest value of a counter."""
        return self.sample(topic)[0]

    def sample(self, topic: str) -> tuple[float, float]:
        """Return the latest value of a counter and when it arrived."""
        with self._lock:
            return self.values.get(topic, (0.0, time.monotonic()))

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


def prepare_state(state_dir: Path, config: FleetConfig) -> None:
    """Pre-create every unit's schema.json, as an adopted fleet would have."""
    state_dir.mkdir(parents=True, exist_ok=True)
    for index, (announce_id, kind) in enumerate(config.plan()):
        schema_json = build_schema_json(
            UnitTopics(config.prefix, f"{index:012x}"), parse_makerhub_json(KINDS[kind].schema)
        )
        (state_dir / f"{announce_id}.schema.json").write_text(json.dumps(schema_json))


def measure(
    design: str,
    command: list[str],
    broker: MosquittoBroker,
    units: int,
    rate: float,
    seconds: float,
) -> Result:
    """Start ``command``, wait until all units are connected, measure, stop it."""
    counters = BrokerCounters(broker)
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        env={**os.environ, "PYTHONPATH": f"{SDK}:{REPO}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = started + 120
        while True:  # wait for a fresh count of the units and the counter reader
            clients, counted_at = counters.sample(CONNECTED)
            if counted_at > started and clients >= units + 1:
                break
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{design}: units did not connect\n{process.stderr.read()}")
            time.sleep(0.2)
        connect_seconds = time.monotonic() - started
        time.sleep(3)  # settle: let every unit reach its rate
        (first, t0), cpu0 = counters.sample(RECEIVED), cpu_seconds(process.pid)
        time.sleep(seconds)
        (last, t1), cpu1 = counters.sample(RECEIVED), cpu_seconds(process.pid)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=180)
        if process.returncode != 0:
            raise RuntimeError(f"{design} failed: {stderr}")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        counters.close()
    return Result(
        design=design,
        units=units,
        target_rate=units * rate,
        connect_seconds=connect_seconds,
        received_rate=(last - first) / (t1 - t0),
        cpu_seconds=cpu1 - cpu0,
        wall_seconds=t1 - t0,
        summary=stdout.strip().splitlines()[-1] if stdout.strip() else "",
    )


# the baseline: a thread per unit


def thread_per_unit(host: str, port: int, units: int, rate: float) -> None:
    """Run ``units`` paho clients with ``loop_start()`` each until SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *args: stop.set())
    ensure_file_limit(3 * units + 64)  # a socket and a wake-up socket pair per client
    clients = []
    for index in range(units):
        uid = f"{index:012x}"
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"thread-{uid}")
        client.will_set(f"makerhub/{uid}/sys/status", "offline", 1, retain=True)
        client.connect(host, port)
        client.loop_start()
        client.publish(f"makerhub/{uid}/sys/status", "online", 1, retain=True)
        clients.append((uid, client))
    published = 0
    credit = 0.0
    last = time.monotonic()
    while not stop.wait(0.05):
        now = time.monotonic()
        credit, last = min(credit + rate * (now - last), max(1.0, rate)), now
        while credit >= 1.0:
            credit -= 1.0
            for uid, client in clients:
                client.publish(f"makerhub/{uid}/out/temperature", "21.5")
                published += 1
    for uid, client in clients:
        client.publish(f"makerhub/{uid}/sys/status", "offline", 1, retain=True)
        client.disconnect()
    for _uid, client in clients:
        client.loop_stop()
    print(f"thread-per-unit: {units} units, {published} messages published", flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    """Run both designs and print the comparison table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=15.0, help="measurement window")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument(
        "--baseline-worker", nargs=2, metavar=("HOST", "PORT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.baseline_worker:
        host, port = args.baseline_worker
        thread_per_unit(host, int(port), args.units, args.rate)
        return
    ensure_file_limit(4 * args.units + 256)
    with tempfile.TemporaryDirectory(prefix="bench-sim-") as tmp:
        broker = MosquittoBroker(Path(tmp) / "mosquitto", extra_config=["sys_interval 1"])
        broker.persistence = False
        broker.start()
        try:
            config = FleetConfig(units=args.units, id_prefix="bench")
            prepare_state(Path(tmp) / "state", config)
            sim = [
                sys.executable, "-m", "makerhub_unit.sim",
                "--host", broker.host, "--port", str(broker.port),
                "--units", str(args.units), "--rate", str(args.rate), "--id-prefix", "bench",
                "--state-dir", str(Path(tmp) / "state"),
            ]  # fmt: skip
            results = []
            if not args.skip_baseline:
                baseline = [
                    sys.executable, "-m", "bench.sim_fleet", "--units", str(args.units),
                    "--rate", str(args.rate), "--baseline-worker", broker.host, str(broker.port),
                ]  # fmt: skip
                results.append(
                    measure(
                        "thread-per-unit", baseline, broker, args.units, args.rate, args.seconds
                    )
                )
            results.append(
                measure("makerhub-sim", sim, broker, args.units, args.rate, args.seconds)
            )
        finally:
            broker.stop()
    print_table(results)


def print_table(results: list[Result]) -> None:
    """Print the measurements, and ratios against the first row (the baseline)."""
    base = results[0]
    print(
        f"{'design':<16} {'units':>6} {'target/s':>9} {'recv/s':>9} {'recv/target':>11} "
        f"{'connect s':>9} {'cpu %core':>9} {'cpu ms/1k':>9} {'vs base cpu/msg':>15}"
    )
    for r in results:
        print(
            f"{r.design:<16} {r.units:>6} {r.target_rate:>9.0f} {r.received_rate:>9.0f} "
            f"{r.received_rate / r.target_rate:>11.2f} {r.connect_seconds:>9.1f} "
            f"{100 * r.cpu_share:>9.0f} {r.cpu_per_1000:>9.1f} "
            f"{r.cpu_per_1000 / base.cpu_per_1000:>15.2f}"
        )
    for r in results:
        if r.summary:
            print(r.summary)


if __name__ == "__main__":
    main()
