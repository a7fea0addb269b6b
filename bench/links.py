"""Links: one unit's output to another unit's input, against the floor and an automation.

Latency of a value from unit A's output to unit B's input, three ways, in the same run,
through one real Mosquitto, with one real ``hass`` (MQTT + the Makerhub hub) up
throughout:

* **direct** (the physical floor): a paho client (``loop_start``, as most programs use
  paho) publishes on A's ``out/floor`` topic; another paho client subscribed to it
  receives. No hub involved.
* **link**: real ``makerhub_unit`` units A and B, adopted by the hub and linked with the
  ``makerhub.link`` action (A's ``linked`` output → B's ``target`` input), so B's
  ``schema.json`` — as the hub published it — lists A's ``out/linked`` topic for its
  input. From ``A.publish`` to B's input callback; the hub is not in the data path.
* **automation**: the same relay done by a Home Assistant automation, created through
  the automation editor's API (MQTT trigger on A's ``out/relayed`` → ``mqtt.publish`` to
  B's ``in/target``, QoS 0, not retained, ``mode: parallel``). From ``A.publish`` to B's
  input callback.

Each path has its own topic, so every message goes to exactly one timed receiver (and
to Home Assistant, whose hub sees all of A's outputs). Every value is a sequence number;
the receiver (B's callback, or the subscriber) stamps its arrival with the monotonic
clock of this same process first thing, so latency = arrival - send. One value is in
flight at a time and the next leaves ``--gap`` ms after the previous one arrived, so
what is measured is latency, not queueing (Home Assistant needs a few ms of CPU per
relayed value; at a fixed few hundred per second it would queue).

After a warm-up, direct and link values alternate one by one (direct, link, link,
direct, ...), so the floor and the link meet the same moments of the machine: a
recorder commit or another process's burst lands on both alike, and their ratio at p99
compares the paths rather than two stretches of time. The automation has its own turns
between the paired ones (a relayed value leaves Home Assistant busy for a few ms after
it arrives, which the next value would otherwise pay for); each turn waits until Home
Assistant is idle again.

The broker: Mosquitto's default leaves Nagle's algorithm on for its client sockets. The
automation then waits for delayed ACKs: the relay's own publish comes back to Home
Assistant (the hub reads ``in`` topics), Home Assistant sends nothing back, its kernel
delays the ACK, and the broker holds the next trigger for it — ~40 ms per value when
values follow each other closely (relaying to a topic Home Assistant does not read, the
same automation takes ~1.4 ms; ``tests/helpers/dynsec_broker.py`` meets the same
effect). That measures a TCP setting, not the relay, so by default the broker runs with
``set_tcp_nodelay true``; ``--broker stock`` (or ``both``) measures the default as the
Mosquitto add-on ships it (its automation rounds take ~4 minutes at 5,000 values).

Run: ``scripts/bench links [--messages 10000 --rounds 5 --gap 2 --broker nodelay|stock|both
--no-recorder]``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Iterator, Sequence
import contextlib
from dataclasses import dataclass, field
import gc
import json
import math
from pathlib import Path
import sys
import tempfile
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from dev.processes.hass_process import HassApiError, HassClient, HassProcess
from dev.processes.mosquitto import MosquittoBroker
from makerhub_unit import Unit, Value

PREFIX = "makerhub"
UNIT_JSON: dict[str, Any] = {
    "name": "Bench link unit",
    "outputs": {
        "floor": {"type": "float"},
        "linked": {"type": "float"},
        "relayed": {"type": "float"},
    },
    "inputs": {"target": {"type": "float"}},
}
"""Both units declare the same variables; A's outputs feed one path each, B receives on
``target`` (``floor`` is the direct path's topic: only the paho subscriber reads it)."""
AUTOMATION_ID = "bench_links_relay"
BROKERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "nodelay": ("set_tcp_nodelay true", ("set_tcp_nodelay true",)),
    "stock": ("stock: Nagle on towards clients, as the Mosquitto add-on ships", ()),
}
"""Mosquitto's configurations: name → (description, extra configuration lines)."""
TARGET_VS_DIRECT = 1.2
TARGET_VS_AUTOMATION = 10.0
WARMUP = 300
"""Unrecorded messages per path before the rounds."""
TIMEOUT = 2.0
"""Seconds without arrival after which a value counts as lost."""

DIRECT, LINK, AUTOMATION = "direct", "link", "automation"
PATHS = (DIRECT, LINK, AUTOMATION)
SUBSCRIBER, UNIT_B = "subscriber", "unit B"
RECEIVER = {DIRECT: SUBSCRIBER, LINK: UNIT_B, AUTOMATION: UNIT_B}
LABELS = {
    DIRECT: "direct: paho -> broker -> paho",
    LINK: "link: unit A -> broker -> unit B",
    AUTOMATION: "automation: A -> broker -> HA -> broker -> B",
}


class Arrivals:
    """When each numbered value left, when each receiver first saw it, and which one the
    sender waits for."""

    def __init__(self) -> None:
        """Nothing sent yet."""
        self.sent: dict[int, int] = {}
        self.by_receiver: dict[str, dict[int, int]] = {SUBSCRIBER: {}, UNIT_B: {}}
        self.awaited: tuple[str, int] = ("", 0)
        self.event = threading.Event()

    def arrive(self, receiver: str, seq: int) -> None:
        """Stamp an arrival (on the receiver's thread, first thing)."""
        now = time.monotonic_ns()
        self.by_receiver[receiver].setdefault(seq, now)
        if self.awaited == (receiver, seq):
            self.event.set()

    def latency(self, path: str, seq: int) -> int | None:
        """Return a value's latency in ns on ``path``, None if it has not arrived."""
        arrived = self.by_receiver[RECEIVER[path]].get(seq)
        return None if arrived is None else arrived - self.sent[seq]


@dataclass
class Samples:
    """Latencies of one path, in nanoseconds, and Home Assistant's CPU while it ran."""

    latencies: list[int] = field(default_factory=list)
    lost: int = 0
    hass_cpu: float = 0.0
    """Home Assistant's CPU seconds over the path's turns and until it was idle again."""

    def quantile(self, fraction: float) -> float:
        """Return a nearest-rank quantile in milliseconds (NaN for none)."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[max(1, math.ceil(fraction * len(ordered))) - 1] / 1e6

    @property
    def p50(self) -> float:
        """Return the median in ms."""
        return self.quantile(0.50)

    @property
    def p99(self) -> float:
        """Return the 99th percentile in ms."""
        return self.quantile(0.99)

    @property
    def max(self) -> float:
        """Return the worst latency in ms."""
        return self.quantile(1.0)


class Sender:
    """Sends numbered values one at a time: the next leaves ``gap`` s after one arrived."""

    def __init__(self, arrivals: Arrivals, gap: float, cpu: Callable[[], float]) -> None:
        """Share ``arrivals`` with the receivers; ``cpu`` reads Home Assistant's CPU seconds."""
        self.arrivals = arrivals
        self.gap = gap
        self.cpu = cpu
        self.seq = 0

    def one(self, path: str, send: Callable[[float], None], timeout: float = TIMEOUT) -> int | None:
        """Send the next value and wait for it; return its latency in ns (None: lost)."""
        self.seq += 1
        arrivals = self.arrivals
        arrivals.event.clear()
        arrivals.awaited = (RECEIVER[path], self.seq)
        arrivals.sent[self.seq] = time.monotonic_ns()
        send(float(self.seq))
        arrivals.event.wait(timeout)
        time.sleep(self.gap)
        return arrivals.latency(path, self.seq)

    def record(self, path: str, send: Callable[[float], None], into: Samples) -> None:
        """Send one value and record it."""
        latency = self.one(path, send)
        if latency is None:
            into.lost += 1
        else:
            into.latencies.append(latency)

    def block(self, path: str, send: Callable[[float], None], count: int, into: Samples) -> None:
        """Send ``count`` values and record them."""
        for _ in range(count):
            self.record(path, send, into)

    def alternate(
        self, sends: dict[str, Callable[[float], None]], count: int, into: dict[str, Samples]
    ) -> None:
        """Send ``count`` values on each of ``sends``' paths, alternating them one by one.

        The order swaps every pair (A B B A A B ...), so neither path always follows the
        other. With one path, its values go one after another.
        """
        paths = list(sends)
        for index in range(count):
            order = paths if index % 2 == 0 else paths[::-1]
            for path in order:
                self.record(path, sends[path], into[path])

    def prime(self, path: str, send: Callable[[float], None], within: float = 60.0) -> None:
        """Send until a value comes through (subscriptions settle), then warm up."""
        deadline = time.monotonic() + within
        while self.one(path, send, 0.5) is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing arrived on the {path} path within {within:g} s")
        self.block(path, send, WARMUP, Samples())


# -- set-up ------------------------------------------------------------------------------


def paho_client(broker: MosquittoBroker, client_id: str) -> mqtt.Client:
    """Return a connected paho client running its own network thread."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    connected = threading.Event()
    client.on_connect = lambda *_args: connected.set()
    client.connect(broker.host, broker.port)
    client.loop_start()
    if not connected.wait(10):
        raise RuntimeError(f"{client_id} could not connect")
    return client


def subscribe(client: mqtt.Client, topic: str, on_value: Callable[[int], None]) -> None:
    """Subscribe (QoS 1, as units do) and call ``on_value`` with each sequence number."""
    acked = threading.Event()
    client.on_subscribe = lambda *_args: acked.set()
    client.on_message = lambda _client, _userdata, message: on_value(int(float(message.payload)))
    client.subscribe(topic, 1)
    if not acked.wait(10):
        raise RuntimeError(f"no SUBACK for {topic}")


def announcing_unit(broker: MosquittoBroker, state_dir: Path, announce_id: str) -> Unit:
    """Return a self-describing SDK unit (not started)."""
    return Unit.announcing(
        announce_id,
        broker.host,
        broker.port,
        schema=UNIT_JSON,
        state_dir=state_dir,
        name=f"Bench {announce_id}",
        version="bench",
    )


async def adopt(client: HassClient, units: dict[str, Unit]) -> None:
    """Adopt the announced units (by announce id) and wait until each runs as its uid."""
    wanted = {f"announce:{announce_id}" for announce_id in units}
    flows = await client.wait_for(
        client.discovered_units,
        lambda flows: wanted <= {flow["context"].get("unique_id") for flow in flows},
        60,
        f"{len(units)} discovered units",
    )
    for flow in flows:
        announce_id = flow["context"]["unique_id"].removeprefix("announce:")
        if announce_id in units:
            result = await client.adopt(flow["flow_id"], f"Links {announce_id}")
            if result.get("reason") != "unit_adopted":
                raise RuntimeError(f"adopting {announce_id}: {result}")
    for announce_id, unit in units.items():
        if not await asyncio.to_thread(unit.wait_ready, 60):
            raise RuntimeError(f"unit {announce_id} was not adopted")


async def entity_ids(client: HassClient, unique_ids: Sequence[str]) -> list[str]:
    """Return the entity ids of Makerhub entities with these unique ids (once they exist)."""
    try:
        entries = await client.wait_for(
            lambda: client.ws({"type": "config/entity_registry/list"}),
            lambda entries: set(unique_ids) <= {e["unique_id"] for e in entries},
            60,
            f"entities {', '.join(unique_ids)}",
        )
    except HassApiError as err:
        hub = [(e["state"], e.get("reason")) for e in await client.entries("makerhub")]
        raise RuntimeError(
            f"the adopted units' entities did not appear; hub entry (state, reason): {hub}; "
            f"makerhub log: {client.hass.log_lines('makerhub')[-10:]}"
        ) from err
    by_unique_id = {e["unique_id"]: e["entity_id"] for e in entries if e["platform"] == "makerhub"}
    return [by_unique_id[unique_id] for unique_id in unique_ids]


async def wait_linked(broker: MosquittoBroker, target_uid: str, source_topic: str) -> list[str]:
    """Wait until B's retained ``schema.json`` lists A's topic for ``target``; return the list."""
    deadline = time.monotonic() + 30
    topic = f"{PREFIX}/{target_uid}/sys/schema"
    while time.monotonic() < deadline:
        retained = await asyncio.to_thread(broker.retained, topic)
        if topic in retained:
            listed: list[str] = json.loads(retained[topic])["inputs"]["target"]
            if source_topic in listed:
                return listed
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the hub did not publish a schema.json linking {source_topic}")


async def create_relay(client: HassClient, trigger_topic: str, target_topic: str) -> None:
    """Create the baseline automation as the automation editor does, and wait until it is on."""
    await client.post(
        f"/api/config/automation/config/{AUTOMATION_ID}",
        {
            "alias": "Bench links relay",
            "description": "A's relayed output -> B's target input",
            "mode": "parallel",
            "max": 100,
            "triggers": [{"trigger": "mqtt", "topic": trigger_topic}],
            "conditions": [],
            "actions": [
                {
                    "action": "mqtt.publish",
                    "data": {
                        "topic": target_topic,
                        "payload": "{{ trigger.payload }}",
                        "qos": 0,
                        "retain": False,
                    },
                }
            ],
        },
    )
    await client.wait_for(
        client.states,
        lambda states: any(
            state["attributes"].get("id") == AUTOMATION_ID and state["state"] == "on"
            for entity_id, state in states.items()
            if entity_id.startswith("automation.")
        ),
        60,
        "the relay automation to be on",
    )


# -- the run -----------------------------------------------------------------------------


@dataclass
class Result:
    """What one broker configuration measured."""

    broker: str
    samples: dict[str, Samples]
    schema_inputs: list[str]
    seconds: float


def settle(cpu: Callable[[], float], within: float = 5.0) -> None:
    """Wait (up to ``within`` s) until Home Assistant is idle: under 15% of a core for 0.5 s.

    Home Assistant goes on working for a while after the automation's rounds (the
    recorder, traces); the next path must not share the CPUs with that.
    """
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        before = cpu()
        time.sleep(0.5)
        if cpu() - before < 0.15 * 0.5:
            return


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Keep Python's garbage collector off (and what exists frozen) for the rounds.

    This process carries the harness (aiohttp, paho, the units). One full collection in
    the middle of the rounds costs some value 20-120 ms; the harness makes little cyclic
    garbage, so nothing piles up while the collector waits.
    """
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def measure_rounds(
    sender: Sender, sends: dict[str, Callable[[float], None]], args: argparse.Namespace
) -> dict[str, Samples]:
    """Warm every path up, then send ``args.messages`` per path in ``args.rounds`` rounds.

    A round is two turns: direct and link alternating value by value, and the automation.
    Rounds alternate which turn comes first, and each turn starts with Home Assistant
    idle.
    """
    with collector_paused():
        for path in PATHS:
            sender.prime(path, sends[path])
        settle(sender.cpu)
        samples = {path: Samples() for path in PATHS}
        turns = [(DIRECT, LINK), (AUTOMATION,)]
        for index in range(args.rounds):
            count = args.messages // args.rounds + (index < args.messages % args.rounds)
            for turn in turns if index % 2 == 0 else turns[::-1]:
                cpu_before = sender.cpu()
                sender.alternate({path: sends[path] for path in turn}, count, samples)
                settle(sender.cpu)  # what Home Assistant still does counts for this turn
                spent = sender.cpu() - cpu_before
                for path in turn:  # a paired turn's CPU is split evenly between its paths
                    samples[path].hass_cpu += spent / len(turn)
        return samples


def log(started: float, what: str) -> None:
    """Tell how far the set-up got."""
    print(f"  {what} ({time.monotonic() - started:.0f} s)", file=sys.stderr)


async def run(work: Path, args: argparse.Namespace, broker_name: str) -> Result:
    """Start the broker, hass and the units, link, relay, and measure the three paths."""
    started = time.monotonic()
    broker = MosquittoBroker(
        work / "mosquitto", persistence=False, extra_config=list(BROKERS[broker_name][1])
    )
    broker.start()
    config_dir = work / "config"
    config_dir.mkdir(parents=True)
    (config_dir / "automations.yaml").write_text("[]\n")
    hass = HassProcess(
        config_dir,
        extra_config="automation: !include automations.yaml\n"
        + ("recorder:\n" if args.recorder else ""),
    )
    arrivals = Arrivals()
    units: dict[str, Unit] = {}
    clients: list[mqtt.Client] = []
    client: HassClient | None = None
    try:
        client = await HassClient.start(hass)
        await client.setup_mqtt(broker.host, broker.port)
        await client.setup_makerhub(PREFIX)
        log(started, "hass up with MQTT and the hub")

        state_dir = work / "units"
        units = {name: announcing_unit(broker, state_dir, name) for name in ("a", "b")}
        source, target = units["a"], units["b"]
        target.on_input("target", lambda value: arrivals.arrive(UNIT_B, int(value)))
        for unit in units.values():
            if not await asyncio.to_thread(unit.start):
                raise RuntimeError("a unit could not reach the broker")
        await adopt(client, units)
        assert source.uid is not None
        assert target.uid is not None
        floor_topic = f"{PREFIX}/{source.uid}/out/floor"
        linked_topic = f"{PREFIX}/{source.uid}/out/linked"
        relayed_topic = f"{PREFIX}/{source.uid}/out/relayed"
        in_topic = f"{PREFIX}/{target.uid}/in/target"

        # The link, made as a user or an automation makes it: the makerhub.link action.
        output_entity, input_entity = await entity_ids(
            client, [f"{source.uid}-out-linked", f"{target.uid}-in-target"]
        )
        await client.call_service(
            "makerhub", "link", {"source": output_entity, "target": input_entity}
        )
        schema_inputs = await wait_linked(broker, target.uid, linked_topic)
        await create_relay(client, relayed_topic, in_topic)
        log(started, "units adopted and linked, relay automation on")

        publisher = paho_client(broker, "bench-links-publisher")
        subscriber = paho_client(broker, "bench-links-subscriber")
        clients += [publisher, subscriber]
        subscribe(subscriber, floor_topic, lambda seq: arrivals.arrive(SUBSCRIBER, seq))

        def direct(value: float) -> None:
            publisher.publish(floor_topic, repr(value), 0)

        def linked(value: Value) -> None:
            source.publish("linked", value)

        def relayed(value: Value) -> None:
            source.publish("relayed", value)

        sends: dict[str, Callable[[float], None]] = {
            DIRECT: direct,
            LINK: linked,
            AUTOMATION: relayed,
        }
        sender = Sender(arrivals, args.gap / 1000, hass.cpu_seconds)
        samples = await asyncio.to_thread(measure_rounds, sender, sends, args)
        log(started, "measured")
        return Result(BROKERS[broker_name][0], samples, schema_inputs, time.monotonic() - started)
    finally:
        for paho in clients:
            paho.disconnect()
            paho.loop_stop()
        for unit in units.values():
            await asyncio.to_thread(unit.stop)
        if client is not None:
            await client.close()
        hass.stop()
        broker.stop()
        problems = hass.makerhub_problems()
        if problems:
            print("Makerhub problems in the hass log:", *problems, sep="\n  ", file=sys.stderr)


def ratio(value: float, base: float) -> str:
    """Return value / base as text."""
    if math.isnan(value) or math.isnan(base) or base == 0:
        return "n/a"
    return f"{value / base:.2f}x"


def verdict(ok: bool) -> str:
    """Return a target's verdict."""
    return "met" if ok else "NOT met"


def print_table(result: Result) -> bool:
    """Print one broker configuration's comparison; return whether every target is met."""
    samples = result.samples
    direct, link, automation = samples[DIRECT], samples[LINK], samples[AUTOMATION]
    print(f"\nbroker: {result.broker} ({result.seconds:.0f} s with set-up)")
    width = max(len(label) for label in LABELS.values())
    header = (
        f"{'path':<{width}}  {'p50 ms':>7}  {'p99 ms':>7}  {'max ms':>7}  "
        f"{'p50/direct':>10}  {'p99/direct':>10}  {'max/direct':>10}  {'lost':>4}  "
        f"{'hass CPU ms/value':>17}"
    )
    print(header)
    print("-" * len(header))
    for path in PATHS:
        row = samples[path]
        count = len(row.latencies) + row.lost
        cpu = f"{1000 * row.hass_cpu / count:.2f}" if count else "n/a"
        print(
            f"{LABELS[path]:<{width}}  {row.p50:>7.3f}  {row.p99:>7.3f}  {row.max:>7.3f}  "
            f"{ratio(row.p50, direct.p50):>10}  {ratio(row.p99, direct.p99):>10}  "
            f"{ratio(row.max, direct.max):>10}  {row.lost:>4}  {cpu:>17}"
        )
    print(
        f"link vs automation: the automation takes {ratio(automation.p50, link.p50)} the "
        f"link's time at p50, {ratio(automation.p99, link.p99)} at p99, "
        f"{ratio(automation.max, link.max)} at max"
    )
    p50_ok = link.p50 <= TARGET_VS_DIRECT * direct.p50
    p99_ok = link.p99 <= TARGET_VS_DIRECT * direct.p99
    fast_ok = automation.p99 >= TARGET_VS_AUTOMATION * link.p99
    lost_ok = not (direct.lost or link.lost or automation.lost)
    print(
        f"targets: link p50 <= {TARGET_VS_DIRECT:g}x direct: {verdict(p50_ok)} "
        f"({ratio(link.p50, direct.p50)}); link p99 <= {TARGET_VS_DIRECT:g}x direct: "
        f"{verdict(p99_ok)} ({ratio(link.p99, direct.p99)}); link >= "
        f"{TARGET_VS_AUTOMATION:g}x faster than the automation at p99: {verdict(fast_ok)} "
        f"({ratio(automation.p99, link.p99)}); nothing lost: {verdict(lost_ok)}"
    )
    return p50_ok and p99_ok and fast_ok and lost_ok


def main(argv: Sequence[str] | None = None) -> int:
    """Run each broker configuration and print the tables; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10000, help="measured values per path")
    parser.add_argument(
        "--gap", type=float, default=2.0, help="ms between an arrival and the next send"
    )
    parser.add_argument("--rounds", type=int, default=5, help="turns the paths take")
    parser.add_argument(
        "--broker",
        choices=[*BROKERS, "both"],
        default="nodelay",
        help="Mosquitto's configuration, or both in turn (see the module's docstring)",
    )
    parser.add_argument(
        "--no-recorder",
        dest="recorder",
        action="store_false",
        help="run Home Assistant without its recorder (the state database)",
    )
    args = parser.parse_args(argv)
    names = list(BROKERS) if args.broker == "both" else [args.broker]
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-links-") as tmp:
        for name in names:
            print(f"running links, broker {name} ...", file=sys.stderr)
            results.append(asyncio.run(run(Path(tmp) / name, args, name)))
    print(
        f"\nlinks: {args.messages:,} values per path in {args.rounds} rounds (after {WARMUP} "
        f"warm-up); direct and link alternate value by value, the automation has its own "
        f"turns; one value in flight, the next sent {args.gap:g} ms after the previous "
        f"arrived; one Mosquitto and one hass (MQTT + hub, recorder "
        f"{'on' if args.recorder else 'off'}) per broker configuration.\n"
        "link: made with the makerhub.link action; B's schema.json as the hub published it "
        f"lists for 'target': {', '.join(results[0].schema_inputs)} (own in topic, A's out).\n"
        "automation: MQTT trigger -> mqtt.publish (QoS 0, not retained), mode parallel, "
        "created through the automation editor's API.\n"
        "hass CPU ms/value: Home Assistant's CPU time over the path's turns (until it was "
        "idle again), per value; for direct and link it is the hub reading A's output, as "
        "it reads every output."
    )
    ok = [print_table(result) for result in results]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
