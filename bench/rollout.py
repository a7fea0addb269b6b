"""Benchmark: a fleet rollout of 100 units, in batches of 10 vs all at once.

Everything is real except the launcher process of each unit (see below):

* a real git repository (``dev/processes/git_repo.py``'s :class:`FirmwareGitRepo`)
  holding a Python unit (``makerhub.json``, ``main.py``) and a ``--payload-kib`` blob of
  random bytes per version, so every archive carries that much incompressible firmware;
* the real firmware service as its own process (``python -m makerhub_firmware``, the
  add-on's entry point, ``file://`` allowed), registered through the hub's options and
  the ``repository`` subentry flow;
* a real Home Assistant process (``dev/processes/hass_process.py``) with MQTT and the
  hub, talking to a real Mosquitto; the units are created through the ``firmware_unit``
  subentry flow over REST (set-up, not timed);
* every unit is installed from its own ``GET /api/makerhub/units/<uid>/firmware.tar.gz``
  with :meth:`UpdateManager.install` into its own A/B root, and runs the library's own
  session and update agent (``bench/_rollout_units.py``, one process, one event loop).

Per scenario a new version is committed and tagged, the repository synced with its Sync
button, and ``makerhub.update_units`` called (``batch_size`` 10, then 0 = all at once).
Each unit receives ``update``, downloads the signed URL through Home Assistant, checks
size and sha256, unpacks, switches ``current``, disconnects and comes back on the new
version (the launcher's restart is simulated in-process: a new session from the new
``current`` instead of a new process), which confirms the update. Measured:

* seconds from the ``update_units`` call until the rollout's closing
  ``makerhub_update_finished`` event (``unit: null``) arrives; also when the last unit
  came online on the new version (unit side);
* failures, from that event's summary;
* peak CPU (% of one core, over 0.5 s windows) and peak RSS (``VmRSS``) of Home Assistant
  and of the firmware service, sampled from ``/proc/<pid>/stat`` and ``status`` every
  0.5 s during the rollout (CPU includes reaped children: the service's git processes);
* where the time goes, per unit: from its batch's start until its ``update`` command is
  on the broker (hub and service), until ``update_started``, until it is online on the new
  version (the unit), until its own ``makerhub_update_finished`` (the hub noticing); the
  commands and events are read off the broker by a watching client.

Run: ``scripts/bench rollout [--units 100 --payload-kib 256 --no-recorder --keep DIR
--profile DIR]``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import contextlib
from dataclasses import dataclass, field
import io
import json
import os
from pathlib import Path
import random
import secrets
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from typing import Any

import aiohttp
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

REPO = Path(__file__).resolve().parents[1]
SDK = REPO / "sdk" / "python"
ADDON = REPO / "addons" / "makerhub_firmware"
sys.path.insert(0, str(ADDON))  # tests/helpers/firmware_service.py imports the add-on

from dev.processes.git_repo import FirmwareGitRepo  # noqa: E402
from dev.processes.hass_process import HassApiError, HassClient, HassProcess  # noqa: E402
from dev.processes.mosquitto import MosquittoBroker  # noqa: E402
from dev.processes.ports import free_port  # noqa: E402
from makerhub_unit.fleet import ensure_file_limit  # noqa: E402
from makerhub_unit.updater import UpdateManager  # noqa: E402
from tests.helpers.firmware_service import MAKERHUB_JSON  # noqa: E402

TARGET_SECONDS = 60.0
ROLLOUT_TIMEOUT = 300.0
"""Seconds to wait for a rollout's end (the hub times a silent unit out after 120 s)."""
REPO_NAME = "bench-thermo"
UNIT_PROGRAM = """\
import time
from makerhub_unit import Unit

unit = Unit.from_files("env.json", "schema.json", "makerhub.json")
unit.start()
while True:
    time.sleep(1)
"""
"""The firmware's ``main.py``: what the launcher would run (the benchmark runs the same
library code in one process instead)."""
ENV_VALUES = {"SENSOR_PIN": 4, "CLOUD_KEY": "bench-cloud-key", "WIFI_SSID": "bench"}
SCENARIOS = (("batch 10", 10, "v2.0.0"), ("all at once", 0, "v3.0.0"))
"""(label, batch_size, version the scenario rolls out)."""


def log(started: float, what: str) -> None:
    """Tell how far the run got."""
    print(f"  {what} ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)


# -- sampling ------------------------------------------------------------------------------


def read_cpu(pid: int) -> float:
    """Return a process's CPU seconds so far, its reaped children's included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def read_rss(pid: int) -> int:
    """Return a process's resident memory in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass
class Peak:
    """One process's peaks over a sampling run."""

    cpu_percent: float = 0.0
    rss: int = 0
    cpu_seconds: float = 0.0


class Sampler:
    """Samples processes' CPU and RSS on a thread every ``interval`` seconds."""

    def __init__(self, pids: dict[str, int], interval: float = 0.5) -> None:
        """Watch ``pids`` (name → pid)."""
        self.pids = pids
        self.interval = interval
        self.peaks = {name: Peak() for name in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def __enter__(self) -> Sampler:
        """Start sampling."""
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop sampling (one last sample is taken)."""
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        first = {name: read_cpu(pid) for name, pid in self.pids.items()}
        last, last_at = dict(first), time.monotonic()
        for name, pid in self.pids.items():
            self.peaks[name].rss = read_rss(pid)
        while True:
            stopping = self._stop.wait(self.interval)
            now = time.monotonic()
            for name, pid in self.pids.items():
                cpu = read_cpu(pid)
                peak = self.peaks[name]
                peak.cpu_percent = max(peak.cpu_percent, 100 * (cpu - last[name]) / (now - last_at))
                peak.rss = max(peak.rss, read_rss(pid))
                peak.cpu_seconds = cpu - first[name]
                last[name] = cpu
            last_at = now
            if stopping:
                return


def settle(pids: Sequence[int], within: float = 20.0) -> None:
    """Wait (up to ``within`` s) until the processes are idle: under 10% of a core for 1 s."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        before = sum(read_cpu(pid) for pid in pids)
        time.sleep(1.0)
        if sum(read_cpu(pid) for pid in pids) - before < 0.10:
            return


# -- the firmware service and the repository ------------------------------------------------


class ServiceProcess:
    """``python -m makerhub_firmware`` on a free port, as the add-on runs it."""

    def __init__(self, data: Path) -> None:
        """Prepare (not started)."""
        self.data = data
        self.port = free_port()
        self.token = "bench-rollout-" + secrets.token_hex(12)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """Return the process id."""
        assert self.process is not None
        return self.process.pid

    async def start(self) -> None:
        """Start it and wait until ``/api/health`` answers."""
        self.data.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "makerhub_firmware", "--data", str(self.data),
                "--host", "127.0.0.1", "--port", str(self.port), "--token", self.token,
                "--allow-url-scheme", "file", "--log-level", "warning",
            ],
            env={**os.environ, "PYTHONPATH": str(ADDON)},
            stdout=subprocess.DEVNULL,
            stderr=(self.data.parent / "firmware-service.log").open("wb"),
        )  # fmt: skip
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession() as session:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError("the firmware service exited; see firmware-service.log")
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(
                        f"{self.url}/api/health",
                        headers={"Authorization": f"Bearer {self.token}"},
                    ) as response:
                        if response.status == 200:
                            return
                if time.monotonic() > deadline:
                    raise RuntimeError("the firmware service did not answer within 30 s")
                await asyncio.sleep(0.1)

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def commit_version(repo: FirmwareGitRepo, version: str, payload_kib: int) -> None:
    """Commit and tag a new firmware version: its ``main.py`` and its payload change."""
    rng = random.Random(version)
    repo.commit(
        f"Firmware {version}",
        {
            "makerhub.json": MAKERHUB_JSON,
            "main.py": f"# firmware {version}\n{UNIT_PROGRAM}",
            "firmware/payload.bin": rng.randbytes(payload_kib * 1024),
        },
    )
    repo.tag(version)


# -- the units process -----------------------------------------------------------------------


class UnitsProcess:
    """``bench/_rollout_units.py`` running every unit; its stdout read on a thread."""

    def __init__(self, roots: Path, log_path: Path) -> None:
        """Start it."""
        self.online: list[tuple[str, str, float]] = []
        """(uid, version, monotonic time) of every time a unit went online."""
        self.exits: list[tuple[str, int, float]] = []
        self.ready = threading.Event()
        self._lock = threading.Lock()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench._rollout_units", str(roots)],
            env={**os.environ, "PYTHONPATH": f"{SDK}:{REPO}"},
            stdout=subprocess.PIPE,
            stderr=log_path.open("wb"),
            text=True,
            cwd=REPO,
        )
        self._thread = threading.Thread(target=self._read, name="bench-units", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            words = line.split()
            with self._lock:
                if words[0] == "online":
                    self.online.append((words[1], words[2], float(words[3])))
                elif words[0] == "exit":
                    self.exits.append((words[1], int(words[2]), float(words[3])))
                elif words[0] == "ready":
                    self.ready.set()
        self.ready.set()

    def online_on(self, version: str, since: float) -> dict[str, float]:
        """Return, per unit, when it first came online on ``version`` after ``since``."""
        with self._lock:
            times: dict[str, float] = {}
            for uid, seen, at in self.online:
                if seen == version and at >= since:
                    times.setdefault(uid, at)
        return times

    @property
    def pid(self) -> int:
        """Return the process id."""
        return self.process.pid

    def stop(self) -> None:
        """Every unit goes offline; the process ends."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Wire:
    """Watches ``sys/cmd`` and ``sys/event`` of every unit on the broker, stamped on arrival."""

    def __init__(self, broker: MosquittoBroker) -> None:
        """Connect and subscribe."""
        self.seen: list[tuple[float, str, str, dict[str, Any]]] = []
        """(monotonic time, uid, "cmd" or "event", payload)."""
        self._lock = threading.Lock()
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-rollout-wire")
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_args: subscribed.set()
        self.client.connect(broker.host, broker.port)
        self.client.subscribe([("makerhub/+/sys/cmd", 1), ("makerhub/+/sys/event", 1)])
        self.client.loop_start()
        if not subscribed.wait(10):
            raise RuntimeError("the wire watcher could not subscribe")

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        at = time.monotonic()
        parts = msg.topic.split("/")
        with contextlib.suppress(ValueError), self._lock:
            self.seen.append((at, parts[1], parts[3], json.loads(msg.payload)))

    def first(self, kind: str, key: str, value: str, since: float) -> dict[str, float]:
        """Return, per unit, when the first ``kind`` message with ``key == value`` arrived."""
        found: dict[str, float] = {}
        with self._lock:
            for at, uid, seen_kind, payload in self.seen:
                if at >= since and seen_kind == kind and payload.get(key) == value:
                    found.setdefault(uid, at)
        return found

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


# -- Home Assistant ------------------------------------------------------------------------


async def wait_loaded(client: HassClient) -> None:
    """Wait until the hub's entry is loaded (options reload it)."""
    await client.wait_for(
        lambda: client.entries("makerhub"),
        lambda entries: bool(entries) and entries[0]["state"] == "loaded",
        60,
        "the hub to be loaded",
    )


class EventWatcher:
    """``makerhub_update_finished`` events on a WebSocket of its own, stamped on arrival."""

    def __init__(self, client: HassClient) -> None:
        """Use ``client``'s URL and token."""
        self.client = client
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    async def start(self) -> None:
        """Subscribe."""
        ws = await self.client.session.ws_connect(f"{self.client.url}/api/websocket")
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": self.client.token})
        if (await ws.receive_json())["type"] != "auth_ok":
            raise HassApiError("WebSocket auth failed")
        await ws.send_json(
            {"id": 1, "type": "subscribe_events", "event_type": "makerhub_update_finished"}
        )
        reply = await ws.receive_json()
        if not reply.get("success"):
            raise HassApiError(f"subscribe_events: {reply}")
        self._ws = ws
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._ws is not None
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            if data.get("type") == "event":
                self.events.append((time.monotonic(), data["event"]["data"]))
                self.changed.set()

    async def summary(self, rollout: int, timeout: float) -> tuple[float, dict[str, Any]]:
        """Wait for the closing event (``unit: null``) of ``rollout``; return it and its time."""
        deadline = time.monotonic() + timeout
        while True:
            for at, data in self.events:
                if data.get("unit") is None and data.get("rollout") == rollout:
                    return at, data
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"rollout {rollout} did not finish within {timeout:g} s")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), remaining)

    def finished(self, rollout: int) -> dict[str, float]:
        """Return, per unit, when its ``makerhub_update_finished`` of ``rollout`` arrived."""
        return {
            data["unit"]: at
            for at, data in self.events
            if data.get("unit") is not None and data.get("rollout") == rollout
        }

    def unit_results(self, rollout: int) -> dict[str, int]:
        """Return the per-unit results of ``rollout`` by result."""
        counts: dict[str, int] = {}
        for _at, data in self.events:
            if data.get("unit") is not None and data.get("rollout") == rollout:
                counts[data["result"]] = counts.get(data["result"], 0) + 1
        return counts

    async def close(self) -> None:
        """Unsubscribe."""
        if self._ws is not None:
            await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def update_states(client: HassClient) -> dict[str, dict[str, Any]]:
    """Return the firmware update entities of the bench units by entity id."""
    return {
        entity_id: state
        for entity_id, state in (await client.states()).items()
        if entity_id.startswith("update.rollout_")
    }


async def wait_running_version(
    client: HassClient, uids: Sequence[str], version: str, timeout: float
) -> None:
    """Wait until the hub has every unit's state report with ``version``.

    Read from the device registry (``sw_version`` follows each state report's version):
    the update entity's ``installed_version`` is not rewritten on state reports (see the
    report), so it cannot tell.
    """
    wanted = set(uids)

    async def versions() -> dict[str, str | None]:
        devices = await client.ws({"type": "config/device_registry/list"})
        return {
            ident[1]: device.get("sw_version")
            for device in devices
            for ident in device["identifiers"]
            if ident[0] == "makerhub" and ident[1] in wanted
        }

    await client.wait_for(
        versions,
        lambda found: len(found) == len(wanted) and set(found.values()) == {version},
        timeout,
        f"{len(wanted)} units reporting {version}",
    )


async def wait_versions(
    client: HassClient, units: int, key: str, version: str, timeout: float
) -> None:
    """Wait until every unit's update entity shows ``version`` as ``key``."""
    await client.wait_for(
        lambda: update_states(client),
        lambda states: (
            len(states) == units
            and all(state["attributes"].get(key) == version for state in states.values())
        ),
        timeout,
        f"{units} update entities with {key} {version}",
    )


# -- the run -----------------------------------------------------------------------------


@dataclass
class Result:
    """One scenario's measurements."""

    label: str
    batch_size: int
    version: str
    seconds: float
    units_seconds: float
    """Until the last unit came online on the new version (unit side)."""
    units_updated: int
    summary: dict[str, Any]
    unit_results: dict[str, int]
    peaks: dict[str, Peak] = field(default_factory=dict)
    phases: dict[str, list[float]] = field(default_factory=dict)
    """Per-unit durations of the update's steps (see :func:`phases`)."""
    batch_prep: list[float] = field(default_factory=list)
    """Per batch: from the batch's start until its last ``update`` command was sent."""

    @property
    def failures(self) -> int:
        """Return the failed units (the rollout's own count)."""
        return int(self.summary.get("failed", 0))

    @property
    def met(self) -> bool:
        """Return whether the target holds."""
        return (
            self.seconds < TARGET_SECONDS
            and self.failures == 0
            and self.summary.get("succeeded") == self.summary.get("total")
        )


@dataclass
class Setup:
    """What the set-up measured, for the notes."""

    archive_bytes: int = 0
    seconds: float = 0.0
    units: int = 0


async def create_units(
    client: HassClient, entry_id: str, repo_id: str, count: int, started: float
) -> dict[str, str]:
    """Create ``count`` units from the repository (subentry flow); return uid → name."""
    names = [f"Rollout {index:03d}" for index in range(1, count + 1)]
    semaphore = asyncio.Semaphore(4)

    async def one(name: str) -> None:
        async with semaphore:
            result = await client.subentry_flow(
                entry_id,
                "firmware_unit",
                {"name": name, "repo_id": repo_id, "track": ""},
                ENV_VALUES,
            )
        if result.get("type") != "create_entry":
            raise RuntimeError(f"creating {name}: {result}")

    await asyncio.gather(*(one(name) for name in names))
    log(started, f"{count} units created through the firmware_unit flow")
    subentries = await client.ws({"type": "config_entries/subentries/list", "entry_id": entry_id})
    wanted = set(names)
    return {
        s["unique_id"]: s["title"]
        for s in subentries
        if s["subentry_type"] == "firmware_unit" and s["title"] in wanted
    }


async def install_units(
    client: HassClient, units: dict[str, str], roots: Path, archives: Path
) -> int:
    """Install every unit from its own firmware archive; return the archive size."""
    roots.mkdir()
    archives.mkdir()
    semaphore = asyncio.Semaphore(8)
    sizes: list[int] = []

    async def one(uid: str) -> None:
        async with (
            semaphore,
            client.session.get(
                f"{client.url}/api/makerhub/units/{uid}/firmware.tar.gz",
                headers={"Authorization": f"Bearer {client.token}"},
            ) as response,
        ):
            if response.status != 200:
                raise RuntimeError(f"firmware of {uid}: {response.status} {await response.text()}")
            data = await response.read()
        path = archives / f"{uid}.tar.gz"
        path.write_bytes(data)
        sizes.append(len(data))
        await asyncio.to_thread(UpdateManager(roots / uid).install, path)

    await asyncio.gather(*(one(uid) for uid in units))
    # The archive's env.json and schema.json are those the hub serves.
    uid = next(iter(units))
    env = await client.get(f"/api/makerhub/units/{uid}/env.json")
    schema = await client.get(f"/api/makerhub/units/{uid}/schema.json")
    with tarfile.open(archives / f"{uid}.tar.gz") as archive:
        inside = {
            name: json.load(io.BytesIO(archive.extractfile(name).read()))  # type: ignore[union-attr]
            for name in ("env.json", "schema.json")
        }
    if inside != {"env.json": env, "schema.json": schema}:
        raise RuntimeError("the archive's env.json/schema.json differ from the hub's endpoints")
    return max(sizes)


def start_profiler(pid: int, output: Path) -> subprocess.Popen[bytes]:
    """Record ``pid`` with py-spy until SIGINT (raw stacks, 200 Hz)."""
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("py-spy")), "record", "--format", "raw",
            "--rate", "200", "--subprocesses", "--pid", str(pid), "--output", str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def phases(
    t0: float,
    batch_size: int,
    commands: dict[str, float],
    started: dict[str, float],
    online: dict[str, float],
    finished: dict[str, float],
) -> tuple[dict[str, list[float]], list[float]]:
    """Split every unit's update into its steps; return them and each batch's preparation.

    ``hub → command``: from the unit's batch start (the call, or the previous batch's last
    result) until its ``update`` command is on the broker (the hub validated the commit and
    had the service build its archive); ``command → started``: until the unit's
    ``update_started``; ``started → online``: download, checks, unpack, switch, restart,
    until it is online on the new version; ``online → result``: until the hub's
    per-unit ``makerhub_update_finished`` reached the benchmark.
    """
    order = sorted(commands, key=commands.__getitem__)
    size = batch_size or len(order) or 1
    steps: dict[str, list[float]] = {
        "hub -> command": [],
        "command -> started": [],
        "started -> online": [],
        "online -> result": [],
    }
    prep: list[float] = []
    start = t0
    for first in range(0, len(order), size):
        batch = order[first : first + size]
        prep.append(max(commands[uid] for uid in batch) - start)
        for uid in batch:
            steps["hub -> command"].append(commands[uid] - start)
            if uid in started:
                steps["command -> started"].append(started[uid] - commands[uid])
                if uid in online:
                    steps["started -> online"].append(online[uid] - started[uid])
                    if uid in finished:
                        steps["online -> result"].append(finished[uid] - online[uid])
        done = [finished[uid] for uid in batch if uid in finished]
        start = max(done, default=start)
    return steps, prep


async def rollout(
    client: HassClient,
    events: EventWatcher,
    units: UnitsProcess,
    wire: Wire,
    repo: FirmwareGitRepo,
    pids: dict[str, int],
    label: str,
    batch_size: int,
    version: str,
    args: argparse.Namespace,
    started: float,
) -> Result:
    """Publish ``version``, sync, roll it out and measure."""
    commit_version(repo, version, args.payload_kib)
    sync_button = next(
        entity_id
        for entity_id in await client.states()
        if entity_id.startswith("button.") and entity_id.endswith("_sync")
    )
    await client.call_service("button", "press", {"entity_id": sync_button})
    await wait_versions(client, args.units, "latest_version", version, 60)
    await asyncio.to_thread(settle, list(pids.values()))
    log(started, f"{label}: {version} synced, every unit outdated; rolling out")
    profilers = [
        start_profiler(pid, args.profile / f"{name}-{label.replace(' ', '-')}.txt")
        for name, pid in (pids.items() if args.profile else ())
    ]
    if profilers:
        await asyncio.sleep(1)  # py-spy attaches
    with Sampler(pids) as sampler:
        t0 = time.monotonic()
        response = await client.service_response(
            "makerhub", "update_units", {"batch_size": batch_size, "max_failures": 0}
        )
        if len(response["units"]) != args.units:
            raise RuntimeError(f"update_units covers {len(response['units'])} units: {response}")
        finished_at, summary = await events.summary(response["rollout"], ROLLOUT_TIMEOUT)
    for profiler in profilers:
        profiler.send_signal(signal.SIGINT)
        profiler.wait(timeout=60)
    online = units.online_on(version, t0)
    finished = events.finished(response["rollout"])
    steps, prep = phases(
        t0,
        batch_size,
        wire.first("cmd", "version", version, t0),
        wire.first("event", "event", "update_started", t0),
        online,
        finished,
    )
    result = Result(
        label=label,
        batch_size=batch_size,
        version=version,
        seconds=finished_at - t0,
        units_seconds=max(online.values(), default=t0) - t0,
        units_updated=len(online),
        summary=summary,
        unit_results=events.unit_results(response["rollout"]),
        peaks=sampler.peaks,
        phases=steps,
        batch_prep=prep,
    )
    log(
        started,
        f"{label}: {summary['succeeded']}/{summary['total']} succeeded, "
        f"{summary['failed']} failed in {result.seconds:.1f} s",
    )
    return result


async def run(work: Path, args: argparse.Namespace) -> tuple[Setup, list[Result]]:
    """Set everything up, run both scenarios, tear down."""
    started = time.monotonic()
    setup = Setup(units=args.units)
    broker = MosquittoBroker(work / "mosquitto", persistence=False)
    broker.start()
    repo = FirmwareGitRepo(work / "git", REPO_NAME)
    commit_version(repo, "v1.0.0", args.payload_kib)
    service = ServiceProcess(work / "firmware")
    hass = HassProcess(work / "config", extra_config="recorder:\n" if args.recorder else "")
    client: HassClient | None = None
    events: EventWatcher | None = None
    units: UnitsProcess | None = None
    wire: Wire | None = None
    try:
        await service.start()
        client = await HassClient.start(hass)
        # Units download from MH_API_URL: Home Assistant's internal URL (Settings → Network).
        await client.ws({"type": "config/core/update", "internal_url": hass.url})
        await client.setup_mqtt(broker.host, broker.port)
        flow = await client.start_flow("makerhub")
        result = await client.flow_step(
            flow["flow_id"],
            {
                "prefix": "makerhub",
                "unit_broker_host": broker.host,
                "unit_broker_port": broker.port,
                "unit_broker_tls": False,
            },
        )
        if result["type"] != "create_entry":
            raise RuntimeError(f"Makerhub flow: {result}")
        entry_id = (await client.entries("makerhub"))[0]["entry_id"]
        result = await client.options_flow(
            entry_id,
            {"next_step_id": "firmware"},
            {"firmware_url": service.url, "firmware_token": service.token},
        )
        if result["type"] != "create_entry":
            raise RuntimeError(f"firmware options refused: {result}")
        await asyncio.sleep(1)  # the options reload the hub
        await wait_loaded(client)
        result = await client.subentry_flow(
            entry_id,
            "repository",
            {"url": repo.url, "name": REPO_NAME, "sync_hours": 0},
        )
        if result.get("type") != "create_entry":
            raise RuntimeError(f"repository refused: {result}")
        await wait_loaded(client)
        subentries = await client.ws(
            {"type": "config_entries/subentries/list", "entry_id": entry_id}
        )
        repo_id = next(s["unique_id"] for s in subentries if s["subentry_type"] == "repository")
        log(started, "Home Assistant, the firmware service and the repository are up")

        created = await create_units(client, entry_id, repo_id, args.units, started)
        setup.archive_bytes = await install_units(
            client, created, work / "roots", work / "archives"
        )
        log(started, f"{len(created)} units installed from their firmware.tar.gz")
        units = UnitsProcess(work / "roots", work / "units.log")
        if not await asyncio.to_thread(units.ready.wait, 120) or units.process.poll() is not None:
            raise RuntimeError("the units did not come online; see units.log")
        await wait_running_version(client, list(created), "v1.0.0", 60)
        events = EventWatcher(client)
        await events.start()
        wire = Wire(broker)
        setup.seconds = time.monotonic() - started
        log(started, f"{args.units} units online on v1.0.0")

        assert hass.process is not None
        pids = {"hass": hass.process.pid, "service": service.pid}
        results = [
            await rollout(
                client, events, units, wire, repo, pids, label, size, version, args, started
            )
            for label, size, version in SCENARIOS
        ]
        problems = hass.makerhub_problems()
        if problems:
            print("Makerhub errors in the Home Assistant log:", *problems[-10:], sep="\n  ")
        return setup, results
    finally:
        if wire is not None:
            wire.close()
        if events is not None:
            await events.close()
        if units is not None:
            units.stop()
        if client is not None:
            await client.close()
        hass.stop()
        service.stop()
        broker.stop()


def ratio(a: float, b: float) -> str:
    """Return ``a / b`` as ``x1.23`` (``n/a`` when b is 0)."""
    if b == 0:
        return "n/a" if a else "x1.00"
    return f"x{a / b:.2f}"


def print_table(args: argparse.Namespace, setup: Setup, results: list[Result]) -> None:
    """Print the comparison."""
    mib = 2**20
    print(
        f"\nrollout: {setup.units} units, each archive {setup.archive_bytes / 1024:.0f} KiB "
        f"({args.payload_kib} KiB random payload), {os.cpu_count()} CPUs, "
        f"recorder {'on' if args.recorder else 'off'}; set-up took {setup.seconds:.0f} s\n"
    )
    header = (
        f"{'rollout':<26}{'seconds':>9}{'failures':>10}{'HA peak CPU %':>15}"
        f"{'HA peak RSS MiB':>17}{'service peak CPU %':>20}{'service peak RSS MiB':>22}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        hass, service = result.peaks["hass"], result.peaks["service"]
        print(
            f"{result.label:<26}{result.seconds:>9.1f}{result.failures:>10}"
            f"{hass.cpu_percent:>15.0f}{hass.rss / mib:>17.1f}"
            f"{service.cpu_percent:>20.0f}{service.rss / mib:>22.1f}"
        )
    batch, whole = results
    hb, hw = batch.peaks["hass"], whole.peaks["hass"]
    sb, sw = batch.peaks["service"], whole.peaks["service"]
    print(
        f"{'batch 10 / all at once':<26}{ratio(batch.seconds, whole.seconds):>9}"
        f"{ratio(batch.failures, whole.failures):>10}"
        f"{ratio(hb.cpu_percent, hw.cpu_percent):>15}{ratio(hb.rss, hw.rss):>17}"
        f"{ratio(sb.cpu_percent, sw.cpu_percent):>20}{ratio(sb.rss, sw.rss):>22}"
    )
    print()
    for result in results:
        hass, service = result.peaks["hass"], result.peaks["service"]
        print(
            f"{result.label}: {result.version}, {result.summary.get('succeeded')}/"
            f"{result.summary.get('total')} succeeded (per-unit events: {result.unit_results}); "
            f"last unit online on {result.version} at {result.units_seconds:.1f} s "
            f"({result.units_updated} units); CPU seconds HA {hass.cpu_seconds:.1f}, "
            f"service {service.cpu_seconds:.1f}"
        )
        for step, values in result.phases.items():
            ordered = sorted(values)
            if ordered:
                print(
                    f"  {step:<20} median {ordered[len(ordered) // 2]:5.2f} s, "
                    f"max {ordered[-1]:5.2f} s ({len(ordered)} units)"
                )
        if result.batch_prep:
            prep = ", ".join(f"{value:.2f}" for value in result.batch_prep)
            print(f"  until a batch's last command, per batch (s): {prep}")
        if result.summary.get("errors"):
            print(f"  errors: {dict(list(result.summary['errors'].items())[:5])}")
    print(
        f"\nsimulated: the launcher process. The {setup.units} units run in one process "
        "(bench/_rollout_units.py) with the library's own UnitSession and UnitAgent; where a "
        "unit would exit 75 for its launcher to start the new version as a new process, a new "
        "session is built from the new ROOT/current at once. Download (HTTP through Home "
        "Assistant's signed URL), size and sha256 checks, unpacking, the A/B switch and the "
        "confirmation are the SDK's real code. The units, the broker and the benchmark share "
        "the same CPUs as Home Assistant and the service."
    )
    for result in results:
        verdict = "met" if result.met else "MISSED"
        print(
            f"target {setup.units} units in < {TARGET_SECONDS:.0f} s with 0 failures, "
            f"{result.label}: {verdict}"
        )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument(
        "--payload-kib", type=int, default=256, help="random payload per firmware version"
    )
    parser.add_argument(
        "--no-recorder",
        dest="recorder",
        action="store_false",
        help="run Home Assistant without its recorder (the state database)",
    )
    parser.add_argument("--keep", type=Path, help="work in DIR and keep it (logs, roots)")
    parser.add_argument(
        "--profile",
        type=Path,
        help="record Home Assistant and the service with py-spy during each rollout "
        "into DIR/<process>-<rollout>.txt (slows them down: not for the table)",
    )
    args = parser.parse_args(argv)
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    ensure_file_limit(4 * args.units + 256)  # inherited by the broker and the units
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=False)
        setup, results = asyncio.run(run(args.keep, args))
    else:
        with tempfile.TemporaryDirectory(prefix="bench-rollout-") as tmp:
            setup, results = asyncio.run(run(Path(tmp), args))
    print_table(args, setup, results)


if __name__ == "__main__":
    main()
