"""The cameras' blueprints in a Home Assistant with the hub on the real recorder service:
*record while the space is active* (the switches follow space active with an off-delay,
the cameras are told the activity and project) and *clip on event*."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.blueprint import BLUEPRINT_SCHEMA
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util, yaml as yaml_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from dev.processes.recorder_process import RecorderServiceProcess

from .conftest import CAMERA_ENTITY, SWITCH

REPO = Path(__file__).resolve().parents[4]
BLUEPRINTS = REPO / "blueprints"
SPACE = "binary_sensor.test_space_active"
PROJECT = "sensor.test_project"


@pytest.fixture
def blueprint_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """Home Assistant's config folder holds this repository's blueprints."""
    hass.config.config_dir = str(tmp_path)
    shutil.copytree(BLUEPRINTS, tmp_path / "blueprints")
    return tmp_path


async def automation_from(hass: HomeAssistant, blueprint: str, inputs: dict[str, Any]) -> None:
    """Set up one automation from a blueprint of ours."""
    config = {
        "automation": [
            {
                "id": "from_blueprint",
                "alias": "From blueprint",
                "use_blueprint": {"path": f"makerhub/{blueprint}", "input": inputs},
            }
        ]
    }
    assert await async_setup_component(hass, "automation", config)
    await hass.async_block_till_done()
    assert hass.states.get("automation.from_blueprint").state == STATE_ON


async def record_while_active(hass: HomeAssistant, project: str, **inputs: Any) -> None:
    """The space inactive, the project entity at ``project``, and an automation from
    *record while active* on the test camera's switch and camera."""
    hass.states.async_set(SPACE, STATE_OFF)
    hass.states.async_set(PROJECT, project)
    await automation_from(
        hass,
        "makerhub_record_while_active.yaml",
        {
            "space_active": SPACE,
            "recording_switches": [SWITCH],
            "timelapse_cameras": [CAMERA_ENTITY],
            "project_entity": PROJECT,
            **inputs,
        },
    )


def test_the_blueprints_carry_their_metadata() -> None:
    for name in ("makerhub_record_while_active.yaml", "makerhub_clip_on_event.yaml"):
        data = yaml_util.load_yaml(BLUEPRINTS / "automation" / "makerhub" / name)
        BLUEPRINT_SCHEMA(data)
        meta = data["blueprint"]
        assert meta["source_url"].endswith(f"blueprints/automation/makerhub/{name}")
        assert meta["homeassistant"]["min_version"] == "2025.4.0"
        assert meta["author"] == "Makerhub"


async def test_recording_follows_space_active_with_an_off_delay(
    hass: HomeAssistant,
    blueprint_dir: Path,
    cameras_hub: MockConfigEntry,
    service: RecorderServiceProcess,
    camera_id: str,
    freezer: FrozenDateTimeFactory,
) -> None:
    await record_while_active(hass, "clock", off_delay={"minutes": 2})
    hass.states.async_set(SPACE, STATE_ON)
    await hass.async_block_till_done()
    assert hass.states.get(SWITCH).state == STATE_ON
    camera = service.call("GET", f"/api/cameras/{camera_id}")[1]
    assert (camera["recording"], camera["active"], camera["project"]) == (True, True, "clock")

    # Inactive for less than the off-delay: still recording.
    hass.states.async_set(SPACE, STATE_OFF)
    await hass.async_block_till_done()
    freezer.tick(timedelta(minutes=1))
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done()
    assert service.call("GET", f"/api/cameras/{camera_id}")[1]["recording"] is True

    freezer.tick(timedelta(minutes=2))
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done()
    assert hass.states.get(SWITCH).state == STATE_OFF
    camera = service.call("GET", f"/api/cameras/{camera_id}")[1]
    assert (camera["recording"], camera["active"], camera["project"]) == (False, False, None)


async def test_an_event_records_a_clip_with_pre_roll(
    hass: HomeAssistant,
    blueprint_dir: Path,
    cameras_hub: MockConfigEntry,
    service: RecorderServiceProcess,
    camera_id: str,
) -> None:
    await automation_from(
        hass,
        "makerhub_clip_on_event.yaml",
        {
            "trigger": [{"trigger": "event", "event_type": "test_bell"}],
            "camera": CAMERA_ENTITY,
            "duration": 2,
            "pre_roll": 3,
        },
    )
    hass.bus.async_fire("test_bell")
    await hass.async_block_till_done()
    async with asyncio.timeout(30):
        while not (clips := service.call("GET", f"/api/recordings?camera={camera_id}")[1]):
            await asyncio.sleep(0.2)
    (clip,) = clips
    assert clip["kind"] == "clip"
    assert clip["end"] - clip["start"] == pytest.approx(5, abs=0.5)


async def test_a_project_change_while_active_reaches_the_cameras(
    hass: HomeAssistant,
    blueprint_dir: Path,
    cameras_hub: MockConfigEntry,
    service: RecorderServiceProcess,
    camera_id: str,
) -> None:
    """The project entity changing after the space became active (the person's project
    arrives after the space-active change) is told to the cameras; the recording is not
    touched, and nothing is told while the space is inactive."""
    await record_while_active(hass, "")
    hass.states.async_set(PROJECT, "clock")  # inactive: not told
    await hass.async_block_till_done()
    camera = service.call("GET", f"/api/cameras/{camera_id}")[1]
    assert (camera["active"], camera["project"]) == (False, None)

    hass.states.async_set(PROJECT, "")
    hass.states.async_set(SPACE, STATE_ON)
    await hass.async_block_till_done()
    camera = service.call("GET", f"/api/cameras/{camera_id}")[1]
    assert (camera["recording"], camera["active"], camera["project"]) == (True, True, None)

    await hass.services.async_call("switch", "turn_off", {"entity_id": SWITCH}, blocking=True)
    hass.states.async_set(PROJECT, "robot-arm")
    await hass.async_block_till_done()
    camera = service.call("GET", f"/api/cameras/{camera_id}")[1]
    assert (camera["active"], camera["project"]) == (True, "robot-arm")
    assert camera["recording"] is False  # a project change does not touch the switches
    assert hass.states.get(SWITCH).state == STATE_OFF
