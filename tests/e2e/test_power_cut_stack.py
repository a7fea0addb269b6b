"""A power cut of the whole stack, and of one part at a time (issue 20, "A power cut needs
nobody").

The stack, every part a process started by the project's own starters (``dev/processes``,
what ``scripts/develop`` runs): a private PostgreSQL cluster (telemetry), a Mosquitto, the
firmware service with a repository, Home Assistant with Makerhub, a simulated fleet
(``makerhub-sim``: a thermometer and a dimmer) and two units of
``tests/e2e/power_cut_units.py``: a counter publishing a sequence number 20 times a second
(QoS 1) and a follower whose input is linked to it through the broker.

**Whole stack.** Under load, every process gets SIGKILL at the same moment (process
groups: PostgreSQL's backends, Home Assistant's and the service's children die too). Then
everything is started again and the test measures the time from the first start to *all
healthy*: every health item healthy, the dimmer's set-point back on the unit, the link
delivering counter values that were sent after the restart, and every Makerhub entity
that was available before available again. Then it checks that no repair is left open
and the telemetry, against the guarantees ``docs/telemetry.md`` gives:

* a sample the database had committed before the cut is still there (durability);
* every sample sent while the stack ran, from a mark after the set-up to the last one
  committed before the cut, is there (nothing lost while everything ran);
* every sample sent from *all healthy* on is there (delivery resumed without holes);
* no sequence number is stored twice (a kill splits no commit from its acknowledgement
  here: Home Assistant dies with the database, so nothing is retried).

What was sent between the last commit and the restart's first stored value is *not*
promised: the design keeps unwritten samples in Home Assistant's memory for up to a
second (lost with the process) and Home Assistant's MQTT session is clean (a broker keeps
nothing for it while it is down). The test prints how many that were.

**One part at a time.** With the problem-alert blueprint set up (its other actions fire
an event the test listens to), the broker, the database and the firmware service are
killed in turn and started again: each gives exactly one alert naming it as the root
cause (the units behind the broker are not alerted) and one recovery message. Then Home
Assistant itself is killed: nothing inside it can alert about its own death, and after
its restart no alert at all is sent (no storm of units coming back).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import contextlib
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import shutil
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from dev.processes.firmware_processes import FirmwareServiceProcess
from dev.processes.git_repo import FirmwareGitRepo
from dev.processes.hass_process import REPO, HassClient, HassProcess
from dev.processes.mosquitto import MosquittoBroker
from dev.processes.postgres import PostgresServer
from tests.e2e.conftest import SDK, Fleet
from tests.e2e.power_cut_units import last_logged
from tests.helpers.hass_socket import HassSocket

pytestmark = pytest.mark.e2e

TOKEN = "power-cut-firmware-token"
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
ALERT_AUTOMATION = """
automation:
  - id: power_cut_alert
    alias: Power cut alert
    use_blueprint:
      path: makerhub/makerhub_problem_alert.yaml
      input:
        reminder_minutes: 0
        cooldown_minutes: 0
        other_actions:
          - event: power_cut_alert
            event_data:
              kind: "{{ kind }}"
              item: "{{ item }}"
              title: "{{ title }}"
"""
BLUEPRINT = REPO / "blueprints" / "automation" / "makerhub" / "makerhub_problem_alert.yaml"


class Counters:
    """``tests/e2e/power_cut_units.py`` as a process of its own."""

    def __init__(self, broker: MosquittoBroker, directory: Path) -> None:
        """Start both units."""
        self.directory = directory
        self.log = directory / "sent.log"
        directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "tests.e2e.power_cut_units", "--host", broker.host,
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
    hass: HassProcess = field(init=False)
    git: FirmwareGitRepo = field(init=False)
    fleet: Fleet | None = None
    counters: Counters | None = None
    with_counters: bool = True

    def __post_init__(self) -> None:
        """Create the parts (nothing runs yet)."""
        self.database = PostgresServer(password_roles=("makerhub",))
        self.broker = MosquittoBroker(self.root / "mosquitto")
        self.firmware = FirmwareServiceProcess(self.root / "firmware", TOKEN)
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
        self.hass.start()
        self.start_units()

    def start_units(self) -> None:
        """Start the simulated fleet and the counter units."""
        self.fleet = Fleet(self.broker, self.root / "fleet", *FLEET_ARGS)
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
        self.fleet.kill()
        if self.counters is not None:
            self.counters.process.wait()
        wait_gone(groups[0])  # not a child of the test: reaped by whoever adopted it

    def kill_database(self) -> None:
        """SIGKILL PostgreSQL (the postmaster's process group, its backends with it)."""
        pid = self.postmaster_pid()
        os.killpg(pid, signal.SIGKILL)
        wait_gone(pid)

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
        self.broker.stop()
        with contextlib.suppress(OSError, ValueError):
            os.killpg(self.postmaster_pid(), signal.SIGKILL)
        shutil.rmtree(self.database.directory, ignore_errors=True)

    async def set_up(self, client: HassClient) -> None:
        """MQTT, the hub, telemetry, the firmware service with a repository, the units."""
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
    text = database.psql(
        f"SELECT value::bigint FROM samples WHERE unit = '{uid}' AND variable = 'seq' "
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


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """The whole stack (started by the test), torn down at the end."""
    parts = Stack(tmp_path)
    try:
        yield parts
    finally:
        parts.destroy()


async def test_whole_stack_power_cut(socket_enabled: None, stack: Stack) -> None:
    """kill -9 everything under load; all healthy again, nothing committed lost, no hole
    while running, no duplicate."""
    await asyncio.to_thread(stack.first_start)
    client = await connect(stack.hass)
    try:
        await stack.set_up(client)
        for entity_id in (SEQ, FOLLOW, LEVEL, LEVEL_ACTUAL):
            await client.wait_for(
                lambda entity_id=entity_id: client.state(entity_id), is_available, 60, entity_id
            )
        result = await client.service_response(
            "makerhub", "link", {"source": SEQ, "target": FOLLOW}
        )
        assert result["link"]
        await client.call_service("number", "set_value", {"entity_id": LEVEL, "value": 42})
        await client.wait_for(lambda: client.state(LEVEL_ACTUAL), state_is("42"), 60, "42")
        await client.wait_for(lambda: client.state(HEALTHY), all_healthy, 90, "all healthy")
        # Steady state: the set-up (and the reloads it caused) is over from here.
        assert stack.counters is not None
        mark = stack.counters.sent()
        uid = stack.counters.uid()
        await client.wait_for(
            lambda: asyncio.to_thread(stored_seqs, stack.database, uid),
            lambda seqs: bool(seqs) and seqs[-1] >= mark + 60,
            60,
            "three seconds of counter values in the database",
        )
        echo = await client.wait_for(
            lambda: client.state(ECHO), lambda s: s is not None and int(s["state"]) > mark, 30,
            "the link delivering",
        )  # fmt: skip
        assert int(echo["state"]) > mark
        entities = await makerhub_entities(client)
        states = await client.states()
        available = [e for e in entities if states.get(e, {}).get("state") != "unavailable"]
        assert await open_repairs(client) == []

        # The power cut, under load.
        committed = await asyncio.to_thread(stored_seqs, stack.database, uid)
        await asyncio.to_thread(stack.kill_everything)
        await client.close()
        sent_at_cut = stack.counters.sent()

        started = time.monotonic()
        await asyncio.to_thread(stack.start)
        client = await connect(stack.hass)
        await client.wait_for(lambda: client.state(HEALTHY), all_healthy, 120, "all healthy")
        await client.wait_for(
            lambda: client.state(ECHO),
            lambda s: s is not None and s["state"] not in ("unknown", "unavailable")
            and int(s["state"]) > sent_at_cut,
            60,
            "the link delivering values sent after the restart",
        )  # fmt: skip
        await client.wait_for(lambda: client.state(LEVEL), state_is("42.0"), 60, "42 shown")
        await client.wait_for(lambda: client.state(LEVEL_ACTUAL), state_is("42"), 60, "42")

        async def unavailable() -> list[str]:
            states = await client.states()
            return [e for e in available if states.get(e, {}).get("state") == "unavailable"]

        await client.wait_for(unavailable, lambda left: not left, 60, "every entity back")
        await client.wait_for(lambda: client.state(HEALTHY), all_healthy, 60, "still healthy")
        healthy_after = time.monotonic() - started
        print(f"power cut: all healthy {healthy_after:.1f} s after the processes started")
        assert healthy_after <= 60, f"all healthy only after {healthy_after:.1f} s"

        # Telemetry, against what the design promises.
        resumed = stack.counters.sent()
        await client.wait_for(
            lambda: asyncio.to_thread(stored_seqs, stack.database, uid),
            lambda seqs: bool(seqs) and seqs[-1] >= resumed + 40,
            60,
            "two seconds of values after all healthy",
        )
        seqs = await asyncio.to_thread(stored_seqs, stack.database, uid)
        stored = set(seqs)
        assert len(seqs) == len(stored), "a sequence number stored twice"
        assert set(committed) <= stored, "a value committed before the cut is gone"
        before = set(range(mark + 1, max(committed) + 1))
        assert before <= stored, f"lost while running: {sorted(before - stored)[:20]}"
        after = set(range(resumed + 1, max(seqs) + 1))
        assert after <= stored, f"lost after recovery: {sorted(after - stored)[:20]}"
        last_before = max(s for s in stored if s <= sent_at_cut)
        first_after = min(s for s in stored if s > sent_at_cut)
        print(
            f"power cut: not stored (by design): {sent_at_cut - last_before} values sent "
            f"before the cut but not yet written, {first_after - sent_at_cut - 1} sent after "
            "the restart before Home Assistant subscribed again"
        )
        assert await open_repairs(client) == []
        assert stack.hass.makerhub_problems() == []
    finally:
        await client.close()


@pytest.fixture
def alert_stack(tmp_path: Path) -> Iterator[Stack]:
    """The stack with the problem-alert blueprint, its alerts fired as events."""
    blueprints = tmp_path / "config" / "blueprints" / "automation" / "makerhub"
    blueprints.mkdir(parents=True)
    (blueprints / BLUEPRINT.name).write_text(BLUEPRINT.read_text())
    parts = Stack(tmp_path, extra_config=ALERT_AUTOMATION, with_counters=False)
    try:
        yield parts
    finally:
        parts.destroy()


async def test_one_part_at_a_time(socket_enabled: None, alert_stack: Stack) -> None:
    """The broker, the database, the firmware service, Home Assistant: one alert and one
    recovery message each (none for Home Assistant, which cannot report its own death)."""
    stack = alert_stack
    await asyncio.to_thread(stack.first_start)
    client = await connect(stack.hass)
    try:
        await stack.set_up(client)
        await client.wait_for(lambda: client.state(HEALTHY), all_healthy, 90, "all healthy")
        async with HassSocket(client) as socket:
            alerts = await socket.subscribe_events("power_cut_alert")

            async def cut(item: str, kill: Any, start: Any, poll: bool = False) -> None:
                """Kill one part, wait for its alert, start it, wait for its recovery."""
                alerts.clear()
                kill()

                async def messages() -> list[tuple[str, str]]:
                    if poll:  # the firmware service is noticed at its next poll
                        await socket.call_service(
                            "homeassistant", "update_entity", {"entity_id": REPO_SENSOR}
                        )
                    return [(a["data"]["kind"], a["data"]["item"]) for a in alerts]

                await client.wait_for(messages, bool, 120, f"the alert for {item}")
                await asyncio.to_thread(start)
                await client.wait_for(messages, lambda m: len(m) >= 2, 120, f"{item} back")
                await client.wait_for(lambda: client.state(HEALTHY), all_healthy, 120, "healthy")
                assert await messages() == [("problem", item), ("recovered", item)]

            await cut("broker", stack.broker.kill, stack.broker.start)
            await cut(
                "telemetry_database",
                stack.kill_database,
                stack.database.start,
            )
            await cut("firmware_service", stack.kill_firmware, stack.firmware.start, True)
            alerts.clear()
        # Home Assistant: killed and started again; no alert.
        automation = await client.state("automation.power_cut_alert")
        assert automation is not None
        triggered = automation["attributes"]["last_triggered"]
        stack.hass.kill()
        await client.close()
        stack.hass.start()
        client = await connect(stack.hass)
        async with HassSocket(client) as socket:
            alerts = await socket.subscribe_events("power_cut_alert")
            problems = await socket.subscribe_events("makerhub_health_problem")
            await client.wait_for(lambda: client.state(HEALTHY), all_healthy, 120, "healthy")
            assert alerts == []
            assert problems == []
            automation = await client.state("automation.power_cut_alert")
            assert automation is not None
            # Not triggered since the restart (a kill -9 loses the restore state's last
            # save, so the attribute may be empty; it is never newer).
            assert automation["attributes"]["last_triggered"] in (None, triggered)
        assert await open_repairs(client) == []
        assert stack.hass.makerhub_problems() == []
    finally:
        await client.close()
