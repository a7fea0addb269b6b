"""A recorder camera's entities against the real service and a real RTSP camera: the
camera (snapshot, stream source), the recording switch, the status and storage sensors."""

from __future__ import annotations

import asyncio

from homeassistant.components.camera import async_get_stream_source
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.makerhub.const import DOMAIN
from custom_components.makerhub.devices import camera_device_id
from dev.processes.recorder_process import RecorderServiceProcess
from dev.processes.rtsp_camera import RtspCamera

from .conftest import CAMERA_ENTITY, STATUS, SWITCH, first_image, refresh


async def wait_for_status(
    hass: HomeAssistant, hub: MockConfigEntry, wanted: str, timeout: float = 60.0
) -> None:
    """Poll until the status sensor says ``wanted``."""
    async with asyncio.timeout(timeout):
        while True:
            await refresh(hass, hub)
            if hass.states.get(STATUS).state == wanted:
                return
            await asyncio.sleep(0.5)


async def switch(hass: HomeAssistant, service: str) -> None:
    """Turn the recording switch on or off."""
    await hass.services.async_call("switch", service, {"entity_id": SWITCH}, blocking=True)
    await hass.async_block_till_done()


async def test_a_camera_of_the_service_becomes_a_device_with_its_entities(
    hass: HomeAssistant,
    cameras_hub: MockConfigEntry,
    service: RecorderServiceProcess,
    camera: RtspCamera,
    camera_id: str,
) -> None:
    device = dr.async_get(hass).async_get_device({(DOMAIN, camera_device_id(camera_id))})
    assert device is not None
    assert device.name == "Bench"
    registry = er.async_get(hass)
    for entity_id in (CAMERA_ENTITY, SWITCH, STATUS, "sensor.bench_storage_used"):
        entry = registry.async_get(entity_id)
        assert entry is not None, entity_id
        assert entry.device_id == device.id
    await wait_for_status(hass, cameras_hub, "idle")
    assert hass.states.get(SWITCH).state == STATE_OFF
    assert hass.states.get(STATUS).attributes["options"] == [
        "recording", "idle", "reconnecting", "error"
    ]  # fmt: skip

    # The live stream is the service's signed restream of the camera (never its own
    # address: tests/components/makerhub/cameras/test_live.py plays it); the still image
    # comes from the service.
    source = await async_get_stream_source(hass, CAMERA_ENTITY)
    assert source is not None
    assert source.startswith(f"{service.url}/api/cameras/{camera_id}/live?expires=")
    assert camera.url not in source
    image = await first_image(hass, CAMERA_ENTITY)
    assert image.content_type == "image/jpeg"
    assert image.content[:2] == b"\xff\xd8"

    # The disk's sensors are on the hub's device.
    free = hass.states.get("sensor.makerhub_recordings_disk_free")
    assert float(free.state) > 0
    assert free.attributes["unit_of_measurement"] == "GiB"


async def test_the_switch_starts_and_stops_recording(
    hass: HomeAssistant,
    cameras_hub: MockConfigEntry,
    service: RecorderServiceProcess,
    camera_id: str,
) -> None:
    await wait_for_status(hass, cameras_hub, "idle")
    await switch(hass, "turn_on")
    assert hass.states.get(SWITCH).state == STATE_ON
    assert hass.states.get(STATUS).state == "recording"
    status, answer = service.call("GET", f"/api/cameras/{camera_id}")
    assert (status, answer["recording"]) == (200, True)

    await switch(hass, "turn_off")
    assert hass.states.get(SWITCH).state == STATE_OFF
    assert service.call("GET", f"/api/cameras/{camera_id}")[1]["recording"] is False
    # The recording began in the pre-roll: its finished segments are listed.
    async with asyncio.timeout(60):
        while True:
            status, recordings = service.call("GET", f"/api/recordings?camera={camera_id}")
            assert status == 200
            assert [r["kind"] for r in recordings] == ["continuous"]
            if recordings[0]["segments"]:
                break
            await asyncio.sleep(0.5)
    assert recordings[0]["end"] is not None


async def test_a_camera_removed_from_the_service_loses_its_device(
    hass: HomeAssistant,
    cameras_hub: MockConfigEntry,
    service: RecorderServiceProcess,
    camera_id: str,
) -> None:
    devices = dr.async_get(hass)
    assert devices.async_get_device({(DOMAIN, camera_device_id(camera_id))}) is not None
    assert service.call("DELETE", f"/api/cameras/{camera_id}")[0] == 204
    await refresh(hass, cameras_hub)
    assert devices.async_get_device({(DOMAIN, camera_device_id(camera_id))}) is None
    assert hass.states.get(SWITCH) is None or hass.states.get(SWITCH).state == STATE_UNAVAILABLE


async def test_a_camera_added_later_gets_its_entities(
    hass: HomeAssistant,
    cameras_hub: MockConfigEntry,
    service: RecorderServiceProcess,
    camera: RtspCamera,
) -> None:
    # With credentials: the recorder keeps them; Home Assistant never sees them, and its
    # live stream is the service's restream.
    source = camera.url.replace("rtsp://", "rtsp://door:door-secret@") + "?door=1"
    status, answer = service.call("POST", "/api/cameras", {"source": source, "name": "Door"})
    assert status == 201, answer
    await refresh(hass, cameras_hub)
    assert hass.states.get("switch.door_recording") is not None
    assert hass.states.get("sensor.door_status") is not None
    source = await async_get_stream_source(hass, "camera.door")
    assert source is not None
    assert "door-secret" not in source
    assert "/live?expires=" in source
    assert "door-secret" not in str(hass.states.async_all())
