"""The whole Makerhub stack as processes, for the power-cut test and benchmark.

Every part is started by the project's own starters (``dev/processes``, what
``scripts/develop`` runs): a private PostgreSQL cluster (telemetry), a Mosquitto, the
firmware service with a repository, the desktops service (when run as root, as it must),
Home Assistant with Makerhub, a simulated fleet
(``makerhub-sim``: a thermometer and a dimmer) and the two units of
:mod:`dev.power_cut_units` (a counter sending sequence numbers and a follower linked to it).
:meth:`Stack.kill_everything` is the power cut: SIGKILL to every process (and process
group) at the same moment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import dataclass, field
from functools import partial
import json
import os
from pathlib import Path
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

from dev.power_cut_units import last_logged
from dev.processes.desktops_process import DesktopsServiceProcess, remove_desktop_users
from dev.processes.firmware_processes import FirmwareServiceProcess
from dev.processes.git_repo import FirmwareGitRepo
from dev.processes.hass_process import REPO, HassClient, HassProcess
from dev.processes.mosquitto import MosquittoBroker
from dev.processes.postgres import PostgresServer

SDK = REPO / "sdk" / "python"

TOKEN = "power-cut-service-token"
PASSWORD = "power-cut-secret"
HEALTHY = "sensor.makerhub_healthy_items"
SEQ = "sensor.cut_counter_seq"
FOLLOW = "number.cut_follower_follow"
ECHO = "sensor.cut_follower_echo"
LEVEL = "number.cut_dimmer_level"
LEVEL_ACTUAL = "sensor.cut_dimmer_level_actual"
REPO_SENSOR = "sensor.thermo_sync_error"
NAMES = {
    "announce:cut-counter": "Cut counter",
    "announce:cut-follower": "Cut follower",
    "announce:cutsim-thermometer-1": "Cut thermometer",
    "announce:cutsim-dimmer-2": "Cut dimmer",
}
FLEET_ARGS = (
    "--units", "2", "--kinds", "thermometer,dimmer", "--rate", "5", "--state-interval", "2",
    "--id-prefix", "cutsim", "--qos", "1",
)  # fmt: skip


class SimFleet:
    """``makerhub-sim`` as a process of its own, as users run it."""

    def __init__(self, broker: MosquittoBroker, state_dir: Path) -> None:
        """Start the simulated fleet (:data:`FLEET_ARGS`)."""
        state_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "makerhub_unit.sim", "--host", broker.host,
                "--port", str(broker.port), "--state-dir", str(state_dir), *FLEET_ARGS,
            ],
            env={**os.environ, "PYTHONPATH": str(SDK)},  # this checkout's SDK
            stdout=state_dir.with_suffix(".log").open("ab"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def stop(self) -> None:
        """Stop cleanly (units publish offline)."""
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=20)

    def kill(self) -> None:
        """Kill without warning."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=20)


class Counters:
    """The units of :mod:`dev.power_cut_units` as a process of their own."""

    def __init__(self, broker: MosquittoBroker, directory: Path) -> None:
        """Start both units."""
        self.directory = directory
        self.log = directory / "sent.log"
        directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "dev.power_cut_units", "--host", broker.host,
                "--port", str(broker.port), "--state-dir", str(directory / "state"),
                "--log", str(self.log),
            ],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": f"{SDK}{os.pathsep}{REPO}"},
            stdout=(directory / "units.log").open("ab"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def uid(self) -> str:
        """Return the counter's hub-assigned unit id (from the schema.json it keeps)."""
        schema = json.loads((self.directory / "state" / "cut-counter.schema.json").read_text())
        return str(schema["unit"])

    def sent(self) -> int:
        """Return the last sequence number sent (or queued)."""
        return last_logged(self.log)

    def stop(self) -> None:
        """Stop cleanly."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@dataclass
class Stack:
    """Every process of the stack, started by the project's own starters."""

    root: Path
    extra_config: str = ""
    database: PostgresServer = field(init=False)
    broker: MosquittoBroker = field(init=False)
    firmware: FirmwareServiceProcess = field(init=False)
    desktops: DesktopsServiceProcess | None = field(init=False)
    """The desktops service (it must run as root: without root the stack has none)."""
    desktops_root: Path = field(init=False)
    hass: HassProcess = field(init=False)
    git: FirmwareGitRepo = field(init=False)
    fleet: SimFleet | None = None
    counters: Counters | None = None
    with_counters: bool = True

    def __post_init__(self) -> None:
        """Create the parts (nothing runs yet)."""
        self.database = PostgresServer(password_roles=("makerhub",))
        self.broker = MosquittoBroker(self.root / "mosquitto")
        self.firmware = FirmwareServiceProcess(self.root / "firmware", TOKEN)
        self.desktops = None
        if os.geteuid() == 0:
            # Its users' homes must be reachable by them: a folder of its own, o+x.
            self.desktops_root = Path(tempfile.mkdtemp(prefix="makerhub-pc-desktops-"))
            self.desktops_root.chmod(0o711)
            (self.desktops_root / "repos").mkdir()
            prefix = "pc" + secrets.token_hex(2) + "-"
            self.desktops = DesktopsServiceProcess(
                self.desktops_root / "data", TOKEN, prefix, self.desktops_root / "repos"
            )
        self.hass = HassProcess(self.root / "config", extra_config=self.extra_config)
        self.git = FirmwareGitRepo(self.root / "git", "thermo")
        self.git.commit("first", {"makerhub.json": {"name": "Thermo", "outputs": {}}})

    def first_start(self) -> None:
        """Create the database cluster, then start everything."""
        self.database.init()
        self.database.start()
        self.database.ensure_role("makerhub", PASSWORD)
        self.database.psql("CREATE DATABASE makerhub OWNER makerhub")
        self.start(database=False)

    def start(self, database: bool = True) -> None:
        """Start every part (the database and the broker first, as the systemd units order
        them); Home Assistant is started, not waited for."""
        if database:
            self.database.start()
        self.broker.start()
        self.firmware.start()
        if self.desktops is not None:
            self.desktops.start()
        self.hass.start()
        self.start_units()

    def start_units(self) -> None:
        """Start the simulated fleet and the counter units."""
        self.fleet = SimFleet(self.broker, self.root / "fleet")
        if self.with_counters:
            self.counters = Counters(self.broker, self.root / "counters")

    def postmaster_pid(self) -> int:
        """Return the PostgreSQL postmaster's pid (the leader of its process group)."""
        return int((self.database.data / "postmaster.pid").read_text().split()[0])

    def kill_everything(self) -> None:
        """SIGKILL every process at the same moment, then reap them."""
        assert self.hass.process is not None
        assert self.broker.pid is not None
        assert self.firmware.process is not None
        assert self.fleet is not None
        groups = [self.postmaster_pid(), self.hass.process.pid, self.firmware.process.pid]
        if self.desktops is not None:
            assert self.desktops.process is not None
            groups.append(self.desktops.process.pid)
        single = [self.broker.pid, self.fleet.process.pid]
        if self.counters is not None:
            single.append(self.counters.process.pid)
        for group in groups:
            os.killpg(group, signal.SIGKILL)
        for pid in single:
            os.kill(pid, signal.SIGKILL)
        self.hass.kill()
        self.broker.kill()
        self.firmware.stop()
        if self.desktops is not None:
            self.desktops.stop()
        self.fleet.kill()
        if self.counters is not None:
            self.counters.process.wait()
        wait_gone(groups[0])  # not a child of the test: reaped by whoever adopted it

    def stop_everything(self) -> None:
        """Stop every process cleanly, in the reverse order of the start (the baseline of
        ``bench/power_cut.py``: a planned shutdown)."""
        if self.counters is not None:
            self.counters.stop()
        if self.fleet is not None:
            self.fleet.stop()
        self.hass.stop()
        if self.desktops is not None:
            self.desktops.stop()
        self.firmware.stop()
        self.broker.stop()
        self.database.stop()

    def kill_database(self) -> None:
        """SIGKILL PostgreSQL (the postmaster's process group, its backends with it)."""
        pid = self.postmaster_pid()
        os.killpg(pid, signal.SIGKILL)
        wait_gone(pid)

    def kill_desktops(self) -> None:
        """SIGKILL the desktops service (its process group)."""
        assert self.desktops is not None
        assert self.desktops.process is not None
        os.killpg(self.desktops.process.pid, signal.SIGKILL)
        self.desktops.stop()

    def kill_firmware(self) -> None:
        """SIGKILL the firmware service (its process group)."""
        assert self.firmware.process is not None
        os.killpg(self.firmware.process.pid, signal.SIGKILL)
        self.firmware.stop()

    def destroy(self) -> None:
        """Stop whatever still runs and remove the database cluster."""
        if self.counters is not None:
            with contextlib.suppress(Exception):
                self.counters.stop()
        if self.fleet is not None:
            self.fleet.kill()
        self.hass.stop()
        self.firmware.stop()
        if self.desktops is not None:
            self.desktops.stop()
            remove_desktop_users(self.desktops.user_prefix)
            shutil.rmtree(self.desktops_root, ignore_errors=True)
        self.broker.stop()
        with contextlib.suppress(OSError, ValueError):
            os.killpg(self.postmaster_pid(), signal.SIGKILL)
        shutil.rmtree(self.database.directory, ignore_errors=True)

    async def set_up(self, client: HassClient) -> None:
        """MQTT, the hub, telemetry, the firmware service with a repository, the desktops
        service, the units."""
        await client.setup_mqtt(self.broker.host, self.broker.port)
        await client.setup_makerhub(broker_port=self.broker.port)
        entry_id = (await client.entries("makerhub"))[0]["entry_id"]
        url = self.database.dsn("makerhub", user="makerhub", password=PASSWORD)
        result = await client.options_flow(
            entry_id,
            {"next_step_id": "telemetry"},
            {"telemetry_dsn": url, "telemetry_retention_days": 90, "telemetry_rollups": True},
        )
        assert result["type"] == "create_entry", result
        result = await client.options_flow(
            entry_id,
            {"next_step_id": "firmware"},
            {"firmware_url": self.firmware.url, "firmware_token": TOKEN},
        )
        assert result["type"] == "create_entry", result
        if self.desktops is not None:
            result = await client.options_flow(
                entry_id,
                {"next_step_id": "desktops"},
                {"desktops_url": self.desktops.url, "desktops_token": TOKEN},
            )
            assert result["type"] == "create_entry", result
        result = await client.subentry_flow(
            entry_id, "repository", {"url": self.git.url, "name": "Thermo", "sync_hours": 0}
        )
        assert result["type"] == "create_entry", result
        expected = {
            key: name
            for key, name in NAMES.items()
            if self.with_counters or not key.startswith("announce:cut-")
        }
        flows = await client.wait_for(
            client.discovered_units,
            lambda flows: {flow["context"].get("unique_id") for flow in flows} >= set(expected),
            60,
            "the announced units",
        )
        for flow in flows:
            name = expected.get(flow["context"].get("unique_id"))
            if name is not None:
                result = await client.adopt(flow["flow_id"], name)
                assert result.get("reason") == "unit_adopted", result


def wait_gone(pid: int, timeout: float = 30) -> None:
    """Wait until a killed process is gone (a server refuses to start while its lock
    file names a process that still exists)."""
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"process {pid} still exists {timeout} s after SIGKILL")
        time.sleep(0.01)


async def connect(hass: HassProcess) -> HassClient:
    """Return a client of a ``hass`` just started, logged in, once it runs."""
    client = HassClient(hass)
    await client.login()
    await client.wait_running()
    return client


def state_is(value: str) -> Any:
    """Return a check that an entity's state is ``value``."""
    return lambda state: state is not None and state["state"] == value


def is_available(state: dict[str, Any] | None) -> bool:
    """Return whether an entity exists and is available."""
    return state is not None and state["state"] != "unavailable"


def all_healthy(state: dict[str, Any] | None) -> bool:
    """Return whether the health summary says every item is healthy."""
    if state is None or state["state"] in ("unknown", "unavailable"):
        return False
    return int(state["state"]) == int(state["attributes"]["total"])


def stored_seqs(database: PostgresServer, uid: str) -> list[int]:
    """Return the counter's sequence numbers in the database, in order, duplicates kept."""
    if not uid.isalnum():
        raise ValueError(f"not a unit id: {uid!r}")
    text = database.psql(
        f"SELECT value::bigint FROM samples WHERE unit = '{uid}' AND variable = 'seq' "  # noqa: S608  (checked above)
        "ORDER BY value",
        database="makerhub",
    )
    return [int(line) for line in text.splitlines() if line]


async def makerhub_entities(client: HassClient) -> list[str]:
    """Return the entity ids of the Makerhub integration."""
    entries = await client.ws({"type": "config/entity_registry/list"})
    return sorted(e["entity_id"] for e in entries if e["platform"] == "makerhub")


async def open_repairs(client: HassClient) -> list[dict[str, Any]]:
    """Return Makerhub's repair issues that are active (not ignored)."""
    issues = (await client.ws({"type": "repairs/list_issues"}))["issues"]
    return [i for i in issues if i["domain"] == "makerhub" and not i["ignored"]]


@dataclass(frozen=True)
class Steady:
    """The stack set up and running steadily."""

    mark: int
    """The counter's last number sent once the set-up (and its reloads) was over."""
    uid: str
    """The counter's unit id."""
    available: list[str]
    """Makerhub's entities that were available."""


async def reach_steady_state(stack: Stack, client: HassClient) -> Steady:
    """Set the stack up, link the counter to the follower, set the dimmer to 42 and wait
    until all is healthy, the counter's values reach the database and the link delivers."""
    await stack.set_up(client)
    for entity_id in (SEQ, FOLLOW, LEVEL, LEVEL_ACTUAL):
        await client.wait_for(partial(client.state, entity_id), is_available, 60, entity_id)
    await client.service_response("makerhub", "link", {"source": SEQ, "target": FOLLOW})
    await client.call_service("number", "set_value", {"entity_id": LEVEL, "value": 42})
    await client.wait_for(lambda: client.state(LEVEL_ACTUAL), state_is("42"), 60, "42")
    await client.wait_for(lambda: client.state(HEALTHY), all_healthy, 90, "all healthy")
    if stack.counters is None:
        raise RuntimeError("the stack runs without its counter units")
    mark = stack.counters.sent()
    uid = stack.counters.uid()
    await wait_stored(client, stack.database, uid, mark + 60)
    await client.wait_for(lambda: client.state(ECHO), echo_above(mark), 30, "the link delivering")
    entities = await makerhub_entities(client)
    states = await client.states()
    available = [e for e in entities if states.get(e, {}).get("state") != "unavailable"]
    return Steady(mark, uid, available)


async def wait_stored(
    client: HassClient, database: PostgresServer, uid: str, seq: int, timeout: float = 60
) -> list[int]:
    """Wait until the database holds the counter's values up to ``seq`` (at 20 a second:
    ``seq`` a few seconds ahead is a few seconds of values); return them."""
    return await client.wait_for(
        lambda: asyncio.to_thread(stored_seqs, database, uid),
        lambda seqs: bool(seqs) and seqs[-1] >= seq,
        timeout,
        f"counter value {seq} in the database",
    )


def echo_above(number: int) -> Callable[[dict[str, Any] | None], bool]:
    """Return a check that the follower echoed a counter value above ``number``."""

    def check(state: dict[str, Any] | None) -> bool:
        if state is None or not state["state"].isdigit():
            return False
        return int(state["state"]) > number

    return check


async def wait_all_healthy(
    client: HassClient, steady: Steady, sent_before: int, timeout: float = 120
) -> None:
    """Wait until all is healthy again after a restart: every health item healthy, the
    link delivering values sent after it (above ``sent_before``), the dimmer's 42 back,
    every entity that was available available again."""
    await client.wait_for(lambda: client.state(HEALTHY), all_healthy, timeout, "all healthy")
    await client.wait_for(
        lambda: client.state(ECHO), echo_above(sent_before), timeout, "the link after restart"
    )
    await client.wait_for(lambda: client.state(LEVEL), state_is("42.0"), timeout, "42 shown")
    await client.wait_for(lambda: client.state(LEVEL_ACTUAL), state_is("42"), timeout, "42")

    async def unavailable() -> list[str]:
        states = await client.states()
        return [e for e in steady.available if states.get(e, {}).get("state") == "unavailable"]

    await client.wait_for(unavailable, lambda left: not left, timeout, "every entity back")
    await client.wait_for(lambda: client.state(HEALTHY), all_healthy, timeout, "still healthy")
