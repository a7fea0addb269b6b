"""The cameras' end-to-end harness: a real hass, the recorder service as a process, a real
RTSP camera, a station and a person whose custom app reports where they are.

:class:`CameraSpace` sets it all up through the same APIs people use: the hub is pointed
at the service through its options flow, the camera is added to the service, a station is
added through its subentry flow, blueprints are saved the way the frontend's import dialog
saves them and automations are created from them through the automation editor's API.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import json
from pathlib import Path
from typing import Any

from dev.processes.hass_process import HassClient
from dev.processes.recorder_process import RecorderServiceProcess
from dev.processes.rtsp_camera import RtspCamera

TOKEN = "e2e-recorder-token-0123456789abcdef"
REPO = Path(__file__).resolve().parents[2]
BLUEPRINTS = REPO / "blueprints" / "automation" / "makerhub"
UUID = "e2c56db5-dffb-48d2-b060-d0f5a71096e0"
STATION = "Bench A"
CAMERA_NAME = "Bench cam"
SWITCH = "switch.bench_cam_recording"
STATUS = "sensor.bench_cam_status"
CAMERA_ENTITY = "camera.bench_cam"
PERSON_STATION = "sensor.makerhub_developer_station"
PROJECT_SENSOR = "sensor.bench_a_project"
SEGMENT_SECONDS = 2.0
PRE_ROLL = 4.0
TIMELAPSE_INTERVAL = 1.0
FAST_RECORDER: tuple[str, ...] = (
    "--segment-seconds", str(SEGMENT_SECONDS), "--pre-roll", str(PRE_ROLL),
    "--stall-timeout", "2", "--reconnect-max", "2", "--housekeeping-interval", "0.5",
    "--timelapse-interval", str(TIMELAPSE_INTERVAL), "--timelapse-chunk-frames", "3",
    "--timelapse-size", "320x180",
)  # fmt: skip
"""Short timings: 2 s segments, a 4 s pre-roll, a lost stream noticed after 2 s."""

HASS_CONFIG = f"""\
person:
media_source:
repairs:
automation: !include automations.yaml
template:
  - sensor:
      - name: {STATION} project
        unique_id: bench_a_project
        state: >-
          {{{{ state_attr('{PERSON_STATION}', 'project')
             if is_state('{PERSON_STATION}', '{STATION}') else '' }}}}
"""
"""Home Assistant's configuration: people, the media browser, repairs, automations, and
the project worked on at the camera's station (the project of the person there)."""


def write_automations_file(config_dir: Path) -> None:
    """An empty ``automations.yaml`` (the automation editor writes into it)."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "automations.yaml").write_text("[]\n")


@dataclass
class CameraSpace:
    """The hub with the recorder and its camera, a station, a person and their app."""

    client: HassClient
    recorder: RecorderServiceProcess
    camera: RtspCamera
    camera_id: str = ""
    app_token: str = ""

    async def set_up(self) -> None:
        """Add the camera to the service, point the hub at it, add the station and the
        person, and wait for the camera's entities."""
        status, answer = await asyncio.to_thread(
            self.recorder.call, "POST", "/api/cameras",
            {"source": self.camera.url, "name": CAMERA_NAME},
        )  # fmt: skip
        assert status == 201, answer
        self.camera_id = answer["id"]
        entry_id = (await self.client.entries("makerhub"))[0]["entry_id"]
        result = await self.client.options_flow(
            entry_id,
            {"next_step_id": "cameras"},
            {"recorder_url": self.recorder.url, "recorder_token": TOKEN},
        )
        assert result["type"] == "create_entry", result
        await self.client.wait_for(
            lambda: self.client.state(SWITCH),
            lambda state: state is not None and state["state"] == "off",
            60,
            "the camera's recording switch",
        )
        await self._add_person_and_station(entry_id)

    async def _add_person_and_station(self, entry_id: str) -> None:
        client = self.client
        users = await client.ws({"type": "config/auth/list"})
        dev = next(user for user in users if user["username"] == "dev")
        people = (await client.ws({"type": "person/list"}))["storage"]
        if not any(person.get("user_id") == dev["id"] for person in people):
            await client.ws({"type": "person/create", "name": "Dev", "user_id": dev["id"]})
        result = await client.subentry_flow(
            entry_id,
            "station",
            {"name": STATION, "uuid": UUID, "major": 1, "minor": 1, "measured_power": -59},
        )
        assert result["type"] == "create_entry", result
        await client.wait_for(
            lambda: client.state("binary_sensor.makerhub_space_active"),
            lambda state: state is not None and state["state"] == "off",
            60,
            "space active to be off",
        )
        self.app_token = await client.long_lived_token("bench app")

    # -- people ----------------------------------------------------------------------

    async def arrive(self, project: str | None = None) -> None:
        """The person's app reports the station's beacon (with a project)."""
        body: dict[str, Any] = {
            "beacon": {"uuid": UUID, "major": 1, "minor": 1},
            "distance": 0.7,
        }
        if project is not None:
            body["project"] = project
        await self._report(body)
        await self.client.wait_for(
            lambda: self.client.state("binary_sensor.makerhub_space_active"),
            lambda state: state is not None and state["state"] == "on",
            30,
            "the space to be active",
        )

    async def leave(self) -> None:
        """The person's app reports leaving."""
        await self._report({"exit": True})
        await self.client.wait_for(
            lambda: self.client.state("binary_sensor.makerhub_space_active"),
            lambda state: state is not None and state["state"] == "off",
            30,
            "the space to be inactive",
        )

    async def _report(self, body: dict[str, Any]) -> None:
        async with self.client.session.post(
            f"{self.client.url}/api/makerhub/presence",
            json=body,
            headers={"Authorization": f"Bearer {self.app_token}"},
        ) as response:
            assert response.status == 200, await response.text()

    # -- blueprints ------------------------------------------------------------------

    async def import_blueprint(self, name: str) -> str:
        """Save one of the repository's blueprints as the import dialog does; return its
        path for ``use_blueprint``."""
        path = f"makerhub/{name}"
        await self.client.ws(
            {
                "type": "blueprint/save",
                "domain": "automation",
                "path": path,
                "yaml": (BLUEPRINTS / name).read_text(),
            }
        )
        listed = await self.client.ws({"type": "blueprint/list", "domain": "automation"})
        assert "error" not in listed[path], listed[path]
        return path

    async def create_automation(
        self, automation_id: str, blueprint: str, inputs: dict[str, Any]
    ) -> str:
        """Create an automation from a blueprint with the editor's API; return its entity."""
        await self.client.post(
            f"/api/config/automation/config/{automation_id}",
            {
                "id": automation_id,
                "alias": automation_id.replace("_", " ").capitalize(),
                "description": "",
                "use_blueprint": {"path": blueprint, "input": inputs},
            },
        )
        entity_id = f"automation.{automation_id}"
        await self.client.wait_for(
            lambda: self.client.state(entity_id),
            lambda state: state is not None and state["state"] == "on",
            30,
            f"{entity_id} to be on",
        )
        return entity_id

    # -- the service, directly (what is on its disk) ---------------------------------

    async def service(self, method: str, path: str, body: Any = None) -> Any:
        """Call the recorder service's API; it must succeed."""
        status, answer = await asyncio.to_thread(self.recorder.call, method, path, body)
        assert status in {200, 201}, (status, answer)
        return answer

    async def recordings(self) -> list[dict[str, Any]]:
        """The camera's recordings, oldest first."""
        found: list[dict[str, Any]] = await self.service(
            "GET", f"/api/cameras/{self.camera_id}/recordings"
        )
        return sorted(found, key=lambda recording: recording["start"])

    @property
    def segments_folder(self) -> Path:
        """Where the camera's segments are."""
        return self.recorder.data_dir / "recordings" / self.camera_id / "segments"

    def finished_on_disk(self) -> list[str]:
        """Segments ffmpeg has listed as finished, by name."""
        return sorted(
            line.split(",", 1)[0]
            for listing in self.segments_folder.glob("*.csv")
            for line in listing.read_text().splitlines()
            if line
        )

    async def wait_buffered(self) -> None:
        """Wait until the camera's buffer holds more than the pre-roll."""
        enough = int(PRE_ROLL / SEGMENT_SECONDS) + 1

        async def buffered() -> list[str]:
            return self.finished_on_disk()

        await self.client.wait_for(
            buffered, lambda names: len(names) >= enough, 60, "the pre-roll buffer"
        )

    # -- Home Assistant --------------------------------------------------------------

    async def wait_state(
        self, entity_id: str, check: Callable[[dict[str, Any]], bool], what: str, timeout: float
    ) -> dict[str, Any]:
        """Wait until an entity's state passes ``check``."""
        state = await self.client.wait_for(
            lambda: self.client.state(entity_id),
            lambda state: state is not None and check(state),
            timeout,
            what,
        )
        assert state is not None
        return state

    async def issues(self) -> dict[str, dict[str, Any]]:
        """Makerhub's repair issues by id."""
        answer = await self.client.ws({"type": "repairs/list_issues"})
        return {
            issue["issue_id"]: issue
            for issue in answer["issues"]
            if issue["domain"] == "makerhub" and not issue.get("dismissed_version")
        }

    async def browse(self, content_id: str) -> dict[str, Any]:
        """Browse the media browser (over the websocket, as the frontend does)."""
        result: dict[str, Any] = await self.client.ws(
            {"type": "media_source/browse_media", "media_content_id": content_id}
        )
        return result

    async def download(self, content_id: str, target: Path) -> int:
        """Resolve a media item and fetch it through the hub's signed URL into ``target``;
        return the HTTP status."""
        resolved = await self.client.ws(
            {"type": "media_source/resolve_media", "media_content_id": content_id}
        )
        async with self.client.session.get(self.client.url + resolved["url"]) as response:
            target.write_bytes(await response.read())
            return response.status


async def poll_until[T](
    fetch: Callable[[], Awaitable[T]], check: Callable[[T], bool], timeout: float, what: str
) -> T:
    """Poll ``fetch`` until ``check`` holds; fail with the last value seen."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await fetch()
        if check(value):
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last: {json.dumps(value)[:600]}")
        await asyncio.sleep(0.25)
