"""The sample space scripts/develop sets up: a firmware repository and its unit, telemetry,
a project, two stations and a phone walking between them.

Each ``ensure_*`` looks at what Home Assistant already has (over its REST and WebSocket
API, as the frontend does) and creates only what is missing, so a second run adds nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
import io
import itertools
import json
from pathlib import Path
import tarfile
from typing import Any

import aiohttp

from .processes.firmware_processes import LauncherUnit
from .processes.git_repo import git
from .processes.hass_process import HassApiError, HassClient
from .processes.postgres import psql

REPO_NAME = "Workbench climate"
"""The sample repository's name in Home Assistant (its entities: ``*.workbench_climate_*``)."""
REPO_DIR = "workbench-climate"
UNIT_NAME = "Bench climate"
TELEMETRY_DATABASE = "makerhub_dev"
# No TLS to the local server: asyncpg would load client certificates in the event loop.
TELEMETRY_DSN = f"postgresql://postgres@127.0.0.1:5432/{TELEMETRY_DATABASE}?sslmode=disable"
PROJECT = {
    "name": "Robot arm",
    "description": "A 4-axis arm for the pick-and-place demo",
    "space_use": "3D printer",
    "steps": ["Print the joints", "Wire the servos", "Calibrate", "Paint"],
}
PROJECT_TODO = "todo.robot_arm_steps"
UNIT_TEMPERATURE = "sensor.bench_climate_temperature"
PHONE_STATION = "sensor.makerhub_developer_station"
EXPENSE = {"amount": "24.90", "currency": "EUR", "note": "servos"}
STATIONS = (
    {"name": "Workbench", "minor": 1},
    {"name": "Laser cutter", "minor": 2},
)
BEACON_UUID = "e2c56db5-dffb-48d2-b060-d0f5a71096e0"
PERSON = "Developer"
PERSON_TRACKER = "device_tracker.developer_in_the_space"

MAKERHUB_JSON: dict[str, Any] = {
    "name": "Workbench climate",
    "platforms": ["python"],
    "outputs": {
        "temperature": {"type": "float", "unit": "°C", "device_class": "temperature"},
        "humidity": {"type": "float", "unit": "%", "device_class": "humidity"},
    },
    "inputs": {"interval": {"type": "float", "min": 1, "max": 60, "step": 1, "unit": "s"}},
    "env": {"BASE_TEMPERATURE": {"type": "float", "default": 21.0}},
}
MAIN_PY = '''\
"""Workbench climate: a simulated temperature and humidity sensor.

Run by the launcher from the archive Home Assistant builds (env.json, schema.json and
this repository's files). Change OFFSET, commit, press the repository's Sync button in
Home Assistant and install the update: the temperature moves by OFFSET.
"""

import math
import signal
import threading
import time

from makerhub_unit import Unit

OFFSET = 0.0
"""Added to every temperature: change it to see an update arrive."""

unit = Unit.from_files("env.json", "schema.json", "makerhub.json", default_qos=1)
interval = [5.0]
unit.on_input("interval", lambda value: interval.__setitem__(0, float(value)))
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
unit.start(30)
base = float(unit.env["BASE_TEMPERATURE"])
while not stop.is_set():
    phase = time.time() / 120
    unit.publish("temperature", round(base + OFFSET + 1.5 * math.sin(phase), 2))
    unit.publish("humidity", round(45 + 8 * math.cos(phase / 3), 1))
    stop.wait(interval[0])
unit.stop()
'''


def ensure_database() -> None:
    """Create the telemetry database on the local PostgreSQL unless it exists."""
    if not psql("SELECT 1 FROM pg_database WHERE datname = 'makerhub_dev'"):
        psql(f'CREATE DATABASE "{TELEMETRY_DATABASE}"')


def ensure_repository(path: Path) -> None:
    """Create the sample unit's git repository (one commit on ``main``) unless it exists.

    A plain work tree the firmware service clones through ``file://``: a newcomer edits,
    commits, and the next sync sees the commit. Its own git identity lets ``git commit``
    work on a machine without one.
    """
    if (path / ".git").exists():
        return
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Dev Maker")
    git(path, "config", "user.email", "dev@makerhub.invalid")
    (path / "makerhub.json").write_text(json.dumps(MAKERHUB_JSON, indent=2) + "\n")
    (path / "main.py").write_text(MAIN_PY)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "Workbench climate: first version", date=_now())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _suggested(form: dict[str, Any]) -> dict[str, Any]:
    """Return the values a form shows (its fields' suggested values)."""
    return {
        field["name"]: field.get("description", {}).get("suggested_value")
        for field in form.get("data_schema", [])
    }


@dataclass
class Sample:
    """Sets up the sample space in a running dev instance and keeps its parts running."""

    client: HassClient
    state: Path
    """``.dev/``."""
    firmware_url: str
    firmware_token: str
    broker_host: str
    broker_port: int

    entry_id: str = ""

    async def subentries(self, kind: str) -> list[dict[str, Any]]:
        """Return the hub's subentries of one kind."""
        found = await self.client.ws(
            {"type": "config_entries/subentries/list", "entry_id": self.entry_id}
        )
        return [item for item in found if item["subentry_type"] == kind]

    async def subentry_flow(self, kind: str, *steps: dict[str, Any]) -> dict[str, Any]:
        """Run a subentry flow of the hub to its end (retrying while the hub reloads)."""
        result = await self.client.subentry_flow(self.entry_id, kind, *steps, retry_for=60)
        if result["type"] != "create_entry":
            raise HassApiError(f"{kind} flow did not finish: {result}")
        return result

    async def discard(self, flow_path: str) -> None:
        """Close a flow opened only to read its form (as the frontend's Cancel does)."""
        async with self.client.session.delete(
            f"{self.client.url}{flow_path}",
            headers={"Authorization": f"Bearer {self.client.token}"},
        ):
            pass

    # -- the hub ------------------------------------------------------------------------

    async def ensure_hub(self) -> None:
        """Units reach Home Assistant at the address it listens on and the broker at the
        dev broker (older ``.dev/`` instances gave them 1883 and no URL)."""
        config = await self.client.get("/api/config")
        if config.get("internal_url") != self.client.url:
            # Settings → System → Network → Local network: where MH_API_URL and the
            # update download links point.
            await self.client.ws({"type": "config/core/update", "internal_url": self.client.url})
        (entry,) = await self.client.entries("makerhub")
        self.entry_id = entry["entry_id"]
        flow = await self.client.post(
            "/api/config/config_entries/flow",
            {"handler": "makerhub", "entry_id": self.entry_id, "show_advanced_options": False},
        )
        wanted = {"unit_broker_host": self.broker_host, "unit_broker_port": self.broker_port}
        shown = _suggested(flow)
        if all(shown.get(key) == value for key, value in wanted.items()):
            await self.discard(f"/api/config/config_entries/flow/{flow['flow_id']}")
            return
        result = await self.client.flow_step(flow["flow_id"], {**wanted, "unit_broker_tls": False})
        if result.get("reason") != "reconfigure_successful":
            raise HassApiError(f"the hub's broker address was not changed: {result}")
        print(f"  units now get the broker {self.broker_host}:{self.broker_port}")

    async def ensure_telemetry(self) -> None:
        """Turn telemetry on into the local PostgreSQL's ``makerhub_dev`` database."""
        flow = await self.client.post(
            "/api/config/config_entries/options/flow", {"handler": self.entry_id}
        )
        form = await self.client.post(
            f"/api/config/config_entries/options/flow/{flow['flow_id']}",
            {"next_step_id": "telemetry"},
        )
        if _suggested(form).get("telemetry_dsn"):
            await self.discard(f"/api/config/config_entries/options/flow/{form['flow_id']}")
            return
        await asyncio.to_thread(ensure_database)
        result = await self.client.post(
            f"/api/config/config_entries/options/flow/{form['flow_id']}",
            {
                "telemetry_dsn": TELEMETRY_DSN,
                "telemetry_retention_days": 30,
                "telemetry_rollups": True,
            },
        )
        if result["type"] != "create_entry":
            raise HassApiError(f"telemetry was not turned on: {result}")
        print(f"  telemetry: {TELEMETRY_DSN}")

    async def ensure_service(self, step: str, url: str, token: str) -> None:
        """Point one of the hub's service options (``desktops``, ``cameras``: the options
        step, whose fields are ``<service>_url`` and ``<service>_token``) at a dev service."""
        service = {"cameras": "recorder"}.get(step, step)
        flow = await self.client.post(
            "/api/config/config_entries/options/flow", {"handler": self.entry_id}
        )
        form = await self.client.post(
            f"/api/config/config_entries/options/flow/{flow['flow_id']}",
            {"next_step_id": step},
        )
        if _suggested(form).get(f"{service}_url") == url:
            await self.discard(f"/api/config/config_entries/options/flow/{form['flow_id']}")
            return
        result = await self.client.post(
            f"/api/config/config_entries/options/flow/{form['flow_id']}",
            {f"{service}_url": url, f"{service}_token": token},
        )
        if result["type"] != "create_entry":
            raise HassApiError(f"the {service} service was not set up: {result}")
        print(f"  {service} service: {url}")

    # -- firmware -----------------------------------------------------------------------

    async def ensure_firmware(self) -> list[LauncherUnit]:
        """Register the sample repository and create its unit; start every unit the dev
        instance made from a repository (under the launcher); return their launchers."""
        repo_path = self.state / "repos" / REPO_DIR
        await asyncio.to_thread(ensure_repository, repo_path)
        repositories = await self.subentries("repository")
        if not repositories:
            result = await self.client.options_flow(
                self.entry_id,
                {"next_step_id": "firmware"},
                {"firmware_url": self.firmware_url, "firmware_token": self.firmware_token},
            )
            if result["type"] != "create_entry":
                raise HassApiError(f"the firmware service was not accepted: {result}")
            await self.subentry_flow(
                "repository",
                {"url": f"file://{repo_path}", "name": REPO_NAME, "sync_hours": 0},
            )
            repositories = await self.subentries("repository")
            print(f"  repository {REPO_NAME}: file://{repo_path}")
        units = self.state / "units"
        units.mkdir(exist_ok=True)
        if not await self.subentries("firmware_unit"):
            await self.create_unit(repositories[0]["unique_id"], units)
        launchers = []
        for root in sorted(path for path in units.iterdir() if path.is_dir()):
            launcher = LauncherUnit(root, window=30)
            launcher.start()
            launchers.append(launcher)
        return launchers

    async def create_unit(self, repo_id: str, units: Path) -> None:
        """Create the sample unit from the repository and install its archive."""
        await self.subentry_flow(
            "firmware_unit", {"name": UNIT_NAME, "repo_id": repo_id, "track": ""}, {}
        )
        (unit,) = await self.subentries("firmware_unit")
        uid = unit["unique_id"]
        async with self.client.session.get(
            f"{self.client.url}/api/makerhub/units/{uid}/firmware.tar.gz",
            headers={"Authorization": f"Bearer {self.client.token}"},
        ) as response:
            if response.status != 200:
                raise HassApiError(f"archive of {UNIT_NAME}: {response.status}")
            data = await response.read()
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            names = archive.getnames()
        if "main.py" not in names:
            raise HassApiError(f"the archive of {UNIT_NAME} has no main.py: {names}")
        archive_path = units / f"{uid}.tar.gz"
        archive_path.write_bytes(data)
        print(f"  {await asyncio.to_thread(LauncherUnit(units / uid).install, archive_path)}")
        archive_path.unlink()

    # -- projects and presence ------------------------------------------------------------

    async def ensure_project(self) -> None:
        """Sign the space's agreement, create the sample project (steps, one done, an
        expense) and make it the developer's active project."""
        projects = await self.client.get("/api/makerhub/projects")
        if any(project["name"] == PROJECT["name"] for project in projects):
            return
        # The developer signs the space's agreement first, as a new member does.
        await self.client.call_service("makerhub", "sign_agreement", {})
        project = await self.client.post("/api/makerhub/projects", PROJECT)
        base = f"/api/makerhub/projects/{project['id']}"
        await self.client.post(f"{base}/steps/{project['steps'][0]['id']}", {})  # done
        await self.client.post(f"{base}/expenses", EXPENSE)
        select = "select.makerhub_developer_active_project"
        await self.client.wait_for(
            lambda: self.client.state(select),
            lambda state: state is not None and PROJECT["name"] in state["attributes"]["options"],
            60,
            "the project among the developer's choices",
        )
        await self.client.call_service(
            "select", "select_option", {"entity_id": select, "option": PROJECT["name"]}
        )
        print(f"  project {PROJECT['name']}, the developer's active project")

    async def ensure_person(self) -> None:
        """Link the dev user to a person (presence places people), tracked by its
        in-the-space tracker so the person is home while at a station."""
        users = await self.client.ws({"type": "config/auth/list"})
        dev = next(user for user in users if user["username"] == "dev")
        people = (await self.client.ws({"type": "person/list"}))["storage"]
        person = next((item for item in people if item.get("user_id") == dev["id"]), None)
        if person is None:
            await self.client.ws(
                {
                    "type": "person/create",
                    "name": PERSON,
                    "user_id": dev["id"],
                    "device_trackers": [PERSON_TRACKER],
                }
            )
        elif PERSON_TRACKER not in person["device_trackers"]:
            await self.client.ws(
                {
                    "type": "person/update",
                    "person_id": person["id"],
                    "name": person["name"],
                    "user_id": dev["id"],
                    "device_trackers": [*person["device_trackers"], PERSON_TRACKER],
                }
            )

    async def ensure_stations(self) -> None:
        """Add the two stations (iBeacons with the same UUID and major, minor 1 and 2)."""
        existing = {station["title"] for station in await self.subentries("station")}
        for station in STATIONS:
            if station["name"] in existing:
                continue
            await self.subentry_flow(
                "station",
                {
                    "name": station["name"],
                    "uuid": BEACON_UUID,
                    "major": 1,
                    "minor": station["minor"],
                    "measured_power": -59,
                },
            )
            print(f"  station {station['name']}")

    async def phone_token(self) -> str:
        """Return the simulated phone's long-lived token (made once, kept in ``.dev/``)."""
        path = self.state / "phone-token"
        if path.exists():
            token = path.read_text().strip()
            async with self.client.session.get(
                f"{self.client.url}/api/", headers={"Authorization": f"Bearer {token}"}
            ) as response:
                if response.status == 200:
                    return token
        token = await self.client.long_lived_token("Simulated phone (scripts/develop)")
        path.write_text(token + "\n")
        path.chmod(0o600)
        return token


def phone_walk() -> Iterator[dict[str, Any]]:
    """What the simulated phone reports, round after round: at the workbench on the
    project, then at the laser cutter, then out of the space."""
    beacon = {"uuid": BEACON_UUID, "major": 1}
    rounds = (
        [{"beacon": {**beacon, "minor": 1}, "distance": 0.8, "project": PROJECT["name"]}] * 6
        + [{"beacon": {**beacon, "minor": 2}, "distance": 1.2}] * 4
        + [{"exit": True}] * 2
    )
    return itertools.cycle(rounds)


async def run_phone(client: HassClient, token: str, every: float = 10.0) -> None:
    """Report presence as a custom app on a phone would, every ``every`` seconds."""
    headers = {"Authorization": f"Bearer {token}"}
    for report in phone_walk():
        try:
            async with client.session.post(
                f"{client.url}/api/makerhub/presence", json=report, headers=headers
            ) as response:
                # 503: the hub is reloading (a setting changed); the next report lands.
                if response.status not in (200, 503):
                    print(f"  phone: {response.status} {await response.text()}")
        except aiohttp.ClientError as err:
            print(f"  phone: {err}")
        await asyncio.sleep(every)
