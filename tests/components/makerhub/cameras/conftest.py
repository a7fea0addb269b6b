"""Fixtures of the cameras tests: the real recorder service and a real RTSP camera as
processes, the camera added to the service, and a hub using the service."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from homeassistant.components.camera import Image, async_get_image
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from dev.processes.recorder_process import RecorderServiceProcess
from dev.processes.rtsp_camera import RtspCamera
from tests.helpers.recorder_service import TOKEN, recorder_service, rtsp_camera

CAMERA_ENTITY = "camera.bench"
SWITCH = "switch.bench_recording"
STATUS = "sensor.bench_status"


@pytest.fixture
def hub_subentries() -> list[ConfigSubentryData]:
    """No adopted units."""
    return []


@pytest.fixture
def service(socket_enabled: None) -> Iterator[RecorderServiceProcess]:
    """The real recorder service (its folder is removed afterwards)."""
    with recorder_service() as running:
        yield running


@pytest.fixture
def camera(socket_enabled: None) -> Iterator[RtspCamera]:
    """A real RTSP camera with a clock on its picture."""
    with rtsp_camera() as running:
        yield running


@pytest.fixture
def camera_id(service: RecorderServiceProcess, camera: RtspCamera) -> str:
    """Add the camera to the service as ``Bench``; return its id."""
    status, answer = service.call("POST", "/api/cameras", {"source": camera.url, "name": "Bench"})
    assert status == 201, answer
    return str(answer["id"])


async def set_recorder_options(
    hass: HomeAssistant, entry: MockConfigEntry, **fields: Any
) -> dict[str, Any]:
    """Fill the cameras options form; return the result."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "cameras"}
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], fields)
    await hass.async_block_till_done()
    return dict(result)


@pytest.fixture
async def cameras_hub(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
    service: RecorderServiceProcess,
    camera_id: str,
) -> MockConfigEntry:
    """The hub using the recorder service (set in the options, which reloads it)."""
    result = await set_recorder_options(hass, hub, recorder_url=service.url, recorder_token=TOKEN)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    return hub


async def refresh(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """Poll the service now."""
    await hub.runtime_data.cameras.coordinator.async_refresh()
    await hass.async_block_till_done()


async def first_image(hass: HomeAssistant, entity_id: str, timeout: float = 60.0) -> Image:
    """Return the camera's still image once the service has one (a finished segment)."""
    async with asyncio.timeout(timeout):
        while True:
            try:
                return await async_get_image(hass, entity_id)
            except Exception:  # noqa: BLE001 (no segment finished yet)
                await asyncio.sleep(0.5)
