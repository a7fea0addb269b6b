"""The sample space's display: the Workbench station's display unit, the station's area,
and automations from the display and camera blueprints.

Like :mod:`dev.sample`, each ``ensure_*`` looks at what Home Assistant has (over the
API the frontend uses) and adds only what is missing.
"""

from __future__ import annotations

import filecmp
import functools
from pathlib import Path
import shutil
from typing import Any

from .processes.hass_process import HassApiError, HassClient
from .sample import STATIONS

REPO = Path(__file__).resolve().parents[1]
BLUEPRINTS = REPO / "blueprints" / "automation" / "makerhub"
STATION = str(STATIONS[0]["name"])
"""The station the display stands at (its area has the station's name)."""
DISPLAY_NAME = f"{STATION} display"
CAMERA_NAME = f"{STATION} camera"
"""The test camera's name in the recorder (``dev/devserver.py``); it stands at the station."""
DISPLAY_ANNOUNCE_ID = "workbench-display"
AUTOMATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "makerhub_dev_follow_me": (
        "makerhub_follow_me_desktop.yaml",
        {"leave_delay": {"seconds": 30}},
    ),
    "makerhub_dev_follow_project_switch": ("makerhub_follow_project_switch.yaml", {}),
    "makerhub_dev_screens_off": (
        "makerhub_screens_off_when_empty.yaml",
        {"off_delay": {"minutes": 2}},
    ),
}
"""The dev automations (id → blueprint, inputs); the camera's is added when it exists."""
RECORD_AUTOMATION = "makerhub_dev_record_while_active"


def ensure_blueprints(config_dir: Path) -> list[str]:
    """Copy the repository's Makerhub blueprints into the config's blueprint folder (new
    or changed ones only); return the names copied."""
    target = config_dir / "blueprints" / "automation" / "makerhub"
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for source in sorted(BLUEPRINTS.glob("*.yaml")):
        copy = target / source.name
        if not copy.exists() or not filecmp.cmp(source, copy, shallow=False):
            shutil.copyfile(source, copy)
            copied.append(source.name)
    return copied


async def device_named(client: HassClient, name: str) -> dict[str, Any] | None:
    """Return the device registry's entry called ``name`` (its user-given name first)."""
    devices = await client.ws({"type": "config/device_registry/list"})
    return next(
        (device for device in devices if (device["name_by_user"] or device["name"]) == name),
        None,
    )


async def ensure_area(client: HassClient, name: str) -> str:
    """Return the id of the area called ``name``, creating it if missing."""
    areas = await client.ws({"type": "config/area_registry/list"})
    for area in areas:
        if area["name"] == name:
            return str(area["area_id"])
    created = await client.ws({"type": "config/area_registry/create", "name": name})
    return str(created["area_id"])


async def put_in_area(client: HassClient, device: dict[str, Any], area_id: str) -> None:
    """Put a device in an area (as its device page's settings do), unless it is there."""
    if device["area_id"] != area_id:
        await client.ws(
            {"type": "config/device_registry/update", "device_id": device["id"], "area_id": area_id}
        )


async def ensure_display(client: HassClient) -> str:
    """Adopt the display agent (once), and put it and the station in the station's area;
    return the area's id."""
    display = await device_named(client, DISPLAY_NAME)
    if display is None:

        async def announced() -> list[dict[str, Any]]:
            return [
                flow
                for flow in await client.discovered_units()
                if flow["context"].get("unique_id", "").endswith(DISPLAY_ANNOUNCE_ID)
                or flow["context"]["title_placeholders"]["name"] == DISPLAY_NAME
            ]

        (flow, *_) = await client.wait_for(announced, bool, 120, "the display to announce")
        result = await client.adopt(flow["flow_id"], DISPLAY_NAME)
        if result.get("reason") != "unit_adopted":
            raise HassApiError(f"the display was not adopted: {result}")
        print(f"  adopted {DISPLAY_NAME}")

        async def adopted() -> dict[str, Any] | None:
            return await device_named(client, DISPLAY_NAME)

        display = await client.wait_for(adopted, bool, 60, "the display's device")
        assert display is not None
    station = await device_named(client, STATION)
    if station is None:
        raise HassApiError(f"the station {STATION} has no device")
    area_id = await ensure_area(client, STATION)
    await put_in_area(client, station, area_id)
    await put_in_area(client, display, area_id)
    return area_id


async def ensure_camera_at_station(client: HassClient, name: str = CAMERA_NAME) -> str:
    """Put the camera's device in the station's area, so the Space dashboard shows it with
    the station; return the area's id."""

    async def camera() -> dict[str, Any] | None:
        return await device_named(client, name)

    device = await client.wait_for(camera, bool, 60, "the camera's device")
    assert device is not None
    area_id = await ensure_area(client, STATION)
    await put_in_area(client, device, area_id)
    return area_id


async def recording_switches(client: HassClient) -> list[str]:
    """Return the cameras' recording switches (the test camera's)."""
    entities = await client.ws({"type": "config/entity_registry/list"})
    return sorted(
        entity["entity_id"]
        for entity in entities
        if entity["platform"] == "makerhub" and entity["translation_key"] == "camera_recording"
    )


async def ensure_automations(client: HassClient) -> list[str]:
    """Create the dev automations from the blueprints, as the automation editor does;
    return the ids created (none when they all exist)."""
    wanted = dict(AUTOMATIONS)
    if switches := await recording_switches(client):
        wanted[RECORD_AUTOMATION] = (
            "makerhub_record_while_active.yaml",
            {"recording_switches": switches},
        )
    created = []
    for key, (blueprint, inputs) in wanted.items():
        try:
            await client.get(f"/api/config/automation/config/{key}")
        except HassApiError:  # 404: not made yet
            pass
        else:
            continue
        await client.post(
            f"/api/config/automation/config/{key}",
            {
                "id": key,
                "alias": key.replace("_", " ").capitalize(),  # automation.<key>
                "description": "Made by scripts/develop from a Makerhub blueprint",
                "use_blueprint": {"path": f"makerhub/{blueprint}", "input": inputs},
            },
        )
        created.append(key)
    for key in created:
        entity_id = f"automation.{key}"
        await client.wait_for(
            functools.partial(client.state, entity_id),
            lambda state: state is not None and state["state"] == "on",
            60,
            f"{entity_id} on",
        )
    return created
