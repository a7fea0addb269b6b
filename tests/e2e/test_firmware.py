"""Firmware end to end (issue 4): from a git repository to units updated over the air.

Real parts only: a bare git repository whose unit program uses the real ``makerhub_unit``
library; the firmware service (the add-on's program) as a process; Mosquitto; a real
``hass`` driven over REST and WebSocket; units unpacked from the archives Home Assistant
serves and run by the A/B launcher from temporary roots. The test shows that:

- a unit created from the repository (subentry flows over REST) runs from the archive an
  administrator downloads, connects, and its entities work both ways;
- a new commit, once the repository's Sync button is pressed, is the update entity's
  latest version; ``update.install`` makes the unit download it through the signed URL
  and restart on it under the launcher, Home Assistant reports success, and the output
  the new version adds gets its entity;
- a wrong sha256 is refused on the unit (``update_failed``), which keeps running;
- a version that crashes on start is rolled back by the launcher, and the install fails
  with the unit's ``rolled_back`` reason;
- a unit that never answers (its launcher stopped) fails the install on the hub's
  timeout, and a rollout over hanging units (SIGSTOP: connected but silent) stops at its
  failure limit and skips the rest.

The hub gives a unit max(2 * ``MH_STATE_INTERVAL``, 120 s) to report the new version, and
``MH_STATE_INTERVAL`` is the hub's own (30 s, not settable per unit): the two timeout paths
run in the background while the others go on, so the test takes a little over 2 minutes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
import hashlib
import io
import json
from pathlib import Path
import tarfile
import time
from typing import Any

import pytest

from dev.processes.firmware_processes import FirmwareServiceProcess, LauncherUnit
from dev.processes.git_repo import FirmwareGitRepo
from dev.processes.hass_process import HassApiError, HassClient, HassProcess
from dev.processes.mosquitto import MosquittoBroker
from tests.helpers.hass_socket import HassSocket
from tests.sdk.wire import Recorder

pytestmark = pytest.mark.e2e

P = "makerhub"
TOKEN = "firmware-e2e-token-0123456789"
HUB_TIMEOUT = 120.0
"""firmware.MIN_TIMEOUT: what a silent unit costs at least."""

MAKERHUB_V1: dict[str, Any] = {
    "name": "OTA thermometer",
    "platforms": ["python"],
    "outputs": {
        "temperature": {"type": "float", "unit": "°C", "device_class": "temperature"},
        "echo": {"type": "float"},
    },
    "inputs": {"setpoint": {"type": "float", "min": 0, "max": 50, "step": 0.5}},
    "env": {"START_TEMP": {"type": "float", "default": 20.0}},
}
MAKERHUB_V2: dict[str, Any] = {
    **MAKERHUB_V1,
    "outputs": {**MAKERHUB_V1["outputs"], "humidity": {"type": "float", "unit": "%"}},
    "env": {**MAKERHUB_V1["env"], "HUMIDITY": {"type": "float", "default": 55.0}},
}
PROGRAM_V1 = '''\
"""Publishes its temperature (from env.json) and echoes its setpoint."""
import signal
import threading

from makerhub_unit import Unit

unit = Unit.from_files("env.json", "schema.json", "makerhub.json", default_qos=1)
unit.on_input("setpoint", lambda value: unit.publish("echo", value))
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
unit.start(30)
unit.publish("temperature", float(unit.env["START_TEMP"]))
while not stop.wait(1):
    pass
unit.stop()
'''
PROGRAM_V2 = PROGRAM_V1.replace(
    "while not stop.wait(1):\n    pass",
    'while not stop.wait(1):\n    unit.publish("humidity", float(unit.env["HUMIDITY"]))',
)
PROGRAM_CRASH = 'raise SystemExit("boom: this version cannot start")\n'
BOOM = "exited with code 1: boom: this version cannot start"


def state_is(value: str) -> Callable[[dict[str, Any] | None], bool]:
    """Return a check that an entity exists with state ``value``."""
    return lambda state: state is not None and state["state"] == value


def attribute_is(name: str, value: Any) -> Callable[[dict[str, Any] | None], bool]:
    """Return a check that an entity exists with attribute ``name`` == ``value``."""
    return lambda state: state is not None and state["attributes"].get(name) == value


class Scenario:
    """What the test drives: Home Assistant, the repository, the units and the wire."""

    def __init__(
        self,
        client: HassClient,
        socket: HassSocket,
        broker: MosquittoBroker,
        git: FirmwareGitRepo,
        launchers: dict[str, LauncherUnit],
        recorder: Recorder,
        directory: Path,
    ) -> None:
        self.client = client
        self.socket = socket
        self.broker = broker
        self.git = git
        self.launchers = launchers
        self.recorder = recorder
        self.directory = directory
        directory.mkdir()
        self.entry_id = ""
        self.repo_id = ""
        self.uids: dict[str, str] = {}

    # -- Home Assistant -------------------------------------------------------------

    async def wait_state(
        self,
        entity_id: str,
        check: Callable[[dict[str, Any] | None], bool],
        what: str,
        timeout: float = 30,
    ) -> dict[str, Any]:
        """Wait for an entity's state to pass ``check``; return it."""
        state = await self.client.wait_for(
            lambda: self.client.state(entity_id), check, timeout, what
        )
        assert state is not None
        return state

    async def subentry_flow(self, kind: str, *steps: dict[str, Any]) -> dict[str, Any]:
        """Run a subentry flow of the hub over REST (retrying while the hub reloads)."""
        return await self.client.subentry_flow(self.entry_id, kind, *steps)

    async def set_up(self, firmware: FirmwareServiceProcess) -> None:
        """Units reach the hub at its own address; MQTT, the hub, the firmware service
        and the repository through their flows."""
        # Settings → Network: the URL units fetch their files and archives from.
        await self.client.ws({"type": "config/core/update", "internal_url": self.client.url})
        await self.client.setup_mqtt(self.broker.host, self.broker.port)
        flow = await self.client.start_flow("makerhub")
        result = await self.client.flow_step(
            flow["flow_id"],
            {
                "prefix": P,
                "unit_broker_host": self.broker.host,
                "unit_broker_port": self.broker.port,
                "unit_broker_tls": False,
            },
        )
        assert result["type"] == "create_entry", result
        (entry,) = await self.client.entries("makerhub")
        self.entry_id = entry["entry_id"]
        result = await self.client.options_flow(
            self.entry_id,
            {"next_step_id": "firmware"},
            {"firmware_url": firmware.url, "firmware_token": TOKEN},
        )
        assert result["type"] == "create_entry", result
        result = await self.subentry_flow(
            "repository", {"url": self.git.url, "name": "Thermo", "sync_hours": 0}
        )
        assert result["type"] == "create_entry", result
        subentries = await self.client.ws(
            {"type": "config_entries/subentries/list", "entry_id": self.entry_id}
        )
        (repository,) = [s for s in subentries if s["subentry_type"] == "repository"]
        self.repo_id = repository["unique_id"]
        await self.wait_state("sensor.thermo_sync_error", state_is("ok"), "the repository")

    async def sync(self) -> None:
        """Press the repository's Sync button."""
        await self.socket.call_service("button", "press", {"entity_id": "button.thermo_sync"})

    # -- units ----------------------------------------------------------------------

    async def create_unit(self, name: str, env: dict[str, Any]) -> str:
        """Create a unit from the repository (its default branch); return its uid."""
        result = await self.subentry_flow(
            "firmware_unit", {"name": name, "repo_id": self.repo_id, "track": ""}, env
        )
        assert result["type"] == "create_entry", result
        devices = await self.client.wait_for(
            lambda: self.client.ws({"type": "config/device_registry/list"}),
            lambda devices: any(device["name"] == name for device in devices),
            30,
            f"the device of {name}",
        )
        device = next(device for device in devices if device["name"] == name)
        (uid,) = [value for domain, value in device["identifiers"] if domain == "makerhub"]
        self.uids[name] = uid
        return str(uid)

    async def archive(self, uid: str) -> bytes:
        """Download a unit's archive as an administrator does."""
        async with self.client.session.get(
            f"{self.client.url}/api/makerhub/units/{uid}/firmware.tar.gz",
            headers={"Authorization": f"Bearer {self.client.token}"},
        ) as response:
            assert response.status == 200, await response.text()
            assert "attachment" in response.headers["Content-Disposition"]
            return await response.read()

    async def flash(self, name: str) -> dict[str, Any]:
        """Download the unit's archive, install it under a root, start the launcher;
        return the archive's env.json."""
        uid = self.uids[name]
        data = await self.archive(uid)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            names = set(archive.getnames())
            env = json.loads(archive.extractfile("env.json").read())  # type: ignore[union-attr]
            schema = json.loads(archive.extractfile("schema.json").read())  # type: ignore[union-attr]
        assert {"main.py", "makerhub.json", "env.json", "schema.json"} <= names
        assert schema["unit"] == uid
        path = self.directory / f"{uid}.tar.gz"
        path.write_bytes(data)
        launcher = LauncherUnit(self.directory / f"root-{uid}", window=30)
        self.launchers[name] = launcher
        installed = await asyncio.to_thread(launcher.install, path)
        assert installed.startswith(f"installed {env['MH_VERSION']} ")
        launcher.start()
        return dict(env)

    def entity(self, name: str, suffix: str) -> str:
        """Return a unit's entity id (``sensor``/``temperature`` → sensor.<name>_temperature)."""
        domain, key = suffix.split("/")
        return f"{domain}.{name.lower().replace(' ', '_')}_{key}"

    async def wait_reported(self, name: str, version: str) -> None:
        """Wait until the unit's state report shows ``version`` on its device and as the
        installed version of its update entity."""
        await self.client.wait_for(
            lambda: self.client.ws({"type": "config/device_registry/list"}),
            lambda devices: any(
                device["name"] == name and device["sw_version"] == version for device in devices
            ),
            30,
            f"{name} to report {version}",
        )
        await self.wait_state(
            self.entity(name, "update/firmware"),
            attribute_is("installed_version", version),
            f"{name}: {version} installed",
        )

    async def status(self, name: str) -> dict[str, Any]:
        """Return the launcher's ``--status`` of a unit."""
        return await asyncio.to_thread(self.launchers[name].status)

    async def echo(self, name: str, value: float) -> None:
        """Set the unit's input from Home Assistant; wait for its echo output."""
        await self.socket.call_service(
            "number",
            "set_value",
            {"entity_id": self.entity(name, "number/setpoint"), "value": value},
        )
        await self.wait_state(
            self.entity(name, "sensor/echo"), state_is(str(float(value))), f"{name} echoing {value}"
        )

    # -- the wire -------------------------------------------------------------------

    def messages(self, uid: str, kind: str) -> list[dict[str, Any]]:
        """Return the JSON messages seen on a unit's ``sys/<kind>``."""
        return [json.loads(text) for text in self.recorder.texts(f"{P}/{uid}/sys/{kind}")]

    async def wait_message(
        self, uid: str, kind: str, check: Callable[[dict[str, Any]], bool], what: str
    ) -> dict[str, Any]:
        """Wait for a message on a unit's ``sys/<kind>`` that passes ``check``."""
        deadline = time.monotonic() + 30
        while not (found := [m for m in self.messages(uid, kind) if check(m)]):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}: {self.messages(uid, kind)}")
            await asyncio.sleep(0.1)
        return found[-1]


async def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``check`` until it returns something truthy; return it."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)
    return result


@pytest.fixture
def firmware(socket_enabled: None, tmp_path: Path) -> Iterator[FirmwareServiceProcess]:
    """The firmware service as a process."""
    service = FirmwareServiceProcess(tmp_path / "firmware", TOKEN)
    service.start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def launchers() -> Iterator[dict[str, LauncherUnit]]:
    """The units' launchers, by unit name; all killed at the end (hung ones too)."""
    started: dict[str, LauncherUnit] = {}
    try:
        yield started
    finally:
        for launcher in started.values():
            launcher.kill()


@pytest.fixture
def recorder(socket_enabled: None, mosquitto: MosquittoBroker) -> Iterator[Recorder]:
    """What goes to and comes from the units' ``sys`` topics, as the broker carries it."""
    seen = Recorder(
        mosquitto.host,
        mosquitto.port,
        [f"{P}/+/sys/cmd", f"{P}/+/sys/event", f"{P}/+/sys/status"],
        client_id="e2e-firmware-recorder",
    )
    try:
        yield seen
    finally:
        seen.close()


async def test_units_from_a_repository_update_over_the_air(
    hass_process: HassProcess,
    mosquitto: MosquittoBroker,
    firmware: FirmwareServiceProcess,
    launchers: dict[str, LauncherUnit],
    recorder: Recorder,
    tmp_path: Path,
) -> None:
    """Create, flash, update, refuse, roll back, time out and stop a rollout."""
    git = FirmwareGitRepo(tmp_path / "git", "ota-thermo")
    git.commit("First firmware", {"makerhub.json": MAKERHUB_V1, "main.py": PROGRAM_V1})
    git.tag("v1.0.0")
    hass_process.start()
    client = HassClient(hass_process)
    background: list[asyncio.Task[Any]] = []
    try:
        await client.login()
        await client.wait_running()
        async with HassSocket(client) as socket:
            scenario = Scenario(
                client, socket, mosquitto, git, launchers, recorder, tmp_path / "units"
            )
            finished = await socket.subscribe_events("makerhub_update_finished")
            unit_events = await socket.subscribe_events("makerhub_unit_event")
            await scenario.set_up(firmware)
            try:
                await run_scenario(scenario, finished, unit_events, background)
                await refused_token_is_asked_again(scenario, firmware)
            finally:
                for task in background:
                    task.cancel()
                await asyncio.gather(*background, return_exceptions=True)
    finally:
        await client.close()
    assert await asyncio.to_thread(hass_process.stop) == 0
    # The one error expected: the poll that found the token refused (then reauthenticated).
    problems = hass_process.makerhub_problems()
    assert [line for line in problems if "refused the token" not in line] == []
    assert len(problems) == 1


async def refused_token_is_asked_again(s: Scenario, firmware: FirmwareServiceProcess) -> None:
    """The service's token changes: the hub's next poll opens a reauthentication flow; a
    wrong token is refused there, the new one brings the repository back."""
    new_token = "firmware-e2e-token-rotated-9876543210"
    await asyncio.to_thread(firmware.stop)
    firmware.token = new_token
    await asyncio.to_thread(firmware.start)
    await s.client.post(f"/api/config/config_entries/entry/{s.entry_id}/reload", {})
    flows = await s.client.wait_for(
        s.client.flows_in_progress,
        lambda flows: any(flow["context"]["source"] == "reauth" for flow in flows),
        60,
        "a reauthentication flow",
    )
    (flow,) = [flow for flow in flows if flow["context"]["source"] == "reauth"]
    assert (flow["handler"], flow["step_id"]) == ("makerhub", "reauth_confirm")
    result = await s.client.flow_step(flow["flow_id"], {"firmware_token": TOKEN})
    assert result["errors"] == {"base": "firmware_auth"}
    result = await s.client.flow_step(flow["flow_id"], {"firmware_token": new_token})
    assert (result["type"], result["reason"]) == ("abort", "reauth_successful")
    await s.wait_state("sensor.thermo_sync_error", state_is("ok"), "the repository again")
    assert not [f for f in await s.client.flows_in_progress() if f["context"]["source"] == "reauth"]


async def run_scenario(
    s: Scenario,
    finished: list[dict[str, Any]],
    unit_events: list[dict[str, Any]],
    background: list[asyncio.Task[Any]],
) -> None:
    """The whole lifecycle (see the module docstring)."""
    a, silent, fleet = "Bench A", "Bench silent", ["Fleet 1", "Fleet 2"]
    update_a = s.entity(a, "update/firmware")

    # Units made from the repository, flashed from the archives Home Assistant serves.
    for name in (a, silent, *fleet):
        await s.create_unit(name, {"START_TEMP": 19.5} if name == a else {})
    for name in (a, silent, *fleet):
        env = await s.flash(name)
        assert env["MH_UNIT_ID"] == s.uids[name]
        assert env["MH_VERSION"] == "v1.0.0"
        assert env["MH_MQTT_PORT"] == s.broker.port
        assert env["MH_API_URL"] == f"{s.client.url}/api/makerhub/unit_api"
        assert env["START_TEMP"] == (19.5 if name == a else 20.0)
    for name in (a, silent, *fleet):
        await s.wait_reported(name, "v1.0.0")
    await s.wait_state(s.entity(a, "sensor/temperature"), state_is("19.5"), "A's temperature")
    await s.wait_state(s.entity(silent, "sensor/temperature"), state_is("20.0"), "a default")
    await s.echo(a, 23)
    update = await s.client.state(update_a)
    assert update is not None
    assert update["state"] == "off"
    assert update["attributes"]["latest_version"] == "v1.0.0"

    # A new commit: after Sync it is the latest version, with its message as release notes.
    git = s.git
    git.commit(
        "Add humidity\n\nThe SHT31 next to the thermometer.",
        {"makerhub.json": MAKERHUB_V2, "main.py": PROGRAM_V2},
    )
    git.tag("v2.0.0")
    await s.sync()
    update = await s.wait_state(update_a, state_is("on"), "v2.0.0 offered")
    assert update["attributes"]["latest_version"] == "v2.0.0"
    assert update["attributes"]["installed_version"] == "v1.0.0"
    assert update["attributes"]["release_summary"].startswith("Add humidity")

    # In the background, units that never answer: one whose launcher is stopped, and a
    # rollout over two that hang (connected, silent). Both need the hub's timeout.
    assert await asyncio.to_thread(s.launchers[silent].stop) == 0
    await s.wait_state(
        s.entity(silent, "binary_sensor/connectivity"), state_is("off"), "the silent unit gone"
    )
    for name in fleet:
        s.launchers[name].freeze()
    hung_at = time.monotonic()
    silent_install = asyncio.create_task(
        s.socket.call_service(
            "update", "install", {"entity_id": s.entity(silent, "update/firmware")}
        )
    )
    background.append(silent_install)
    response = await s.client.service_response(
        "makerhub",
        "update_units",
        {"units": fleet, "batch_size": 1, "max_failures": 1},
    )
    rollout_id = response["rollout"]
    assert response["units"] == [s.uids[name] for name in fleet]
    rollout = await s.wait_state(
        "sensor.makerhub_firmware_rollout",
        lambda state: (
            state is not None
            and state["state"] == "running"
            and state["attributes"].get("in_progress") == [s.uids[fleet[0]]]
        ),
        "the rollout to update the first hung unit",
    )
    assert rollout["attributes"]["total"] == 2

    # Success: the unit downloads the archive through the signed URL, restarts on v2.0.0.
    await s.socket.call_service("update", "install", {"entity_id": update_a})
    uid = s.uids[a]
    update = await s.client.state(update_a)
    assert update is not None
    assert update["state"] == "off"
    assert update["attributes"]["installed_version"] == "v2.0.0"
    assert update["attributes"]["update_status"] == "success"
    event = next(e["data"] for e in finished if e["data"]["unit"] == uid)
    assert (event["version"], event["result"], event["error"]) == ("v2.0.0", "success", None)
    assert event["rollout"] is None  # not part of the rollout running meanwhile
    (command,) = [c for c in s.messages(uid, "cmd") if c.get("cmd") == "update"]
    assert command["version"] == "v2.0.0"
    assert command["url"].startswith(f"{s.client.url}/api/makerhub/unit_api/units/{uid}/archive/")
    # Home Assistant calls it a success on the new version's state report; the unit
    # confirms the update (state.json, then update_ok) right after it.
    await s.wait_message(uid, "event", lambda e: e["event"] == "update_ok", "update_ok")
    events = [(e["event"], e["version"]) for e in s.messages(uid, "event")]
    assert events == [("update_started", "v2.0.0"), ("update_ok", "v2.0.0")]
    status = await s.status(a)
    assert (status["current"], status["previous"], status["pending"]) == ("v2.0.0", "v1.0.0", None)
    installed = s.launchers[a].root / "versions" / "v2.0.0"
    env = json.loads((installed / "env.json").read_text())
    assert (env["MH_VERSION"], env["START_TEMP"]) == ("v2.0.0", 19.5)
    assert "humidity" in json.loads((installed / "makerhub.json").read_text())["outputs"]
    # The signed URL needs no login, only its signature.
    async with s.client.session.get(command["url"]) as download:
        assert download.status == 200
        body = await download.read()
    assert (len(body), hashlib.sha256(body).hexdigest()) == (command["size"], command["sha256"])
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
        sent_env = json.loads(archive.extractfile("env.json").read())  # type: ignore[union-attr]
        sent_schema = json.loads(archive.extractfile("schema.json").read())  # type: ignore[union-attr]
    assert sent_env["HUMIDITY"] == 55.0  # declared by v2.0.0 only
    assert "humidity" in sent_schema["outputs"]
    async with s.client.session.get(command["url"].replace("sig=", "sig=0")) as download:
        assert download.status == 403
    # The new version's output gets its entity; the input still works.
    await s.wait_state(s.entity(a, "sensor/humidity"), state_is("55.0"), "v2.0.0's new output")
    await s.echo(a, 24)

    # A wrong sha256 (sent straight to the unit): refused, nothing switched.
    restarts = s.recorder.texts(f"{P}/{uid}/sys/status").count("offline")
    wrong = {**command, "version": "v1.0.0", "sha256": "0" * 64}
    s.recorder.publish(f"{P}/{uid}/sys/cmd", json.dumps(wrong))
    failed = await s.wait_message(
        uid, "event", lambda e: e["event"] == "update_failed", "update_failed"
    )
    assert failed == {
        "event": "update_failed",
        "version": "v1.0.0",
        "error": f"sha256 mismatch: expected {'0' * 64}, got {command['sha256']}",
    }
    await wait_until(
        lambda: any(e["data"]["event"] == "update_failed" for e in unit_events),
        10,
        "Home Assistant to see update_failed",
    )
    status = await s.status(a)
    assert (status["current"], status["pending"]) == ("v2.0.0", None)
    assert s.launchers[a].versions() == ["v1.0.0", "v2.0.0"]
    assert not list((s.launchers[a].root / "tmp").iterdir())
    await s.echo(a, 25)  # still running ...
    assert s.recorder.texts(f"{P}/{uid}/sys/status").count("offline") == restarts  # ... never left

    # A version that crashes on start: the launcher rolls back, the install fails.
    third = git.commit("Read the new sensor", {"main.py": PROGRAM_CRASH})[:12]
    await s.sync()
    await s.wait_state(update_a, attribute_is("latest_version", third), "the third version")
    with pytest.raises(HassApiError, match=f"rolled_back: {BOOM}"):
        await s.socket.call_service("update", "install", {"entity_id": update_a})
    event = next(e["data"] for e in finished if e["data"]["version"] == third)
    assert (event["unit"], event["result"]) == (uid, "error")
    assert event["error"] == f"rolled_back: {BOOM}"
    status = await s.status(a)
    assert (status["current"], status["pending"]) == ("v2.0.0", None)
    assert status["rollback"]["version"] == third
    assert status["rollback"]["to"] == "v2.0.0"
    assert status["rollback"]["reported"] is True
    assert third not in s.launchers[a].versions()
    update = await s.client.state(update_a)
    assert update is not None
    assert update["state"] == "on"
    assert update["attributes"]["installed_version"] == "v2.0.0"
    assert update["attributes"]["update_status"] == "error"
    await s.echo(a, 26)  # the previous version runs again

    # The units that never answered: the install times out, the rollout stops.
    with pytest.raises(HassApiError, match=r"did not report v2\.0\.0 in time"):
        await asyncio.wait_for(silent_install, HUB_TIMEOUT + 60)
    assert time.monotonic() - hung_at >= HUB_TIMEOUT - 5
    summary = await wait_until(
        lambda: next((e["data"] for e in finished if e["data"]["unit"] is None), None),
        60,
        "the rollout's summary",
    )
    first, second = (s.uids[name] for name in fleet)
    assert summary["rollout"] == rollout_id
    assert summary["state"] == "stopped"
    assert (summary["total"], summary["succeeded"], summary["failed"]) == (2, 0, 1)
    assert summary["skipped"] == 1
    assert summary["errors"] == {first: "the unit did not report v2.0.0 in time"}
    assert not [c for c in s.messages(second, "cmd") if c.get("cmd") == "update"]  # skipped
    stopped = await s.client.state("sensor.makerhub_firmware_rollout")
    assert stopped is not None
    assert stopped["state"] == "stopped"
    results = {e["data"]["unit"]: e["data"]["result"] for e in finished if e["data"]["unit"]}
    assert results[s.uids[silent]] == results[first] == "error"
    assert second not in results
