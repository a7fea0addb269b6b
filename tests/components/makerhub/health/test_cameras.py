"""The recorder service and each camera as health items, with the real recorder service
and a real RTSP camera: a lost camera is its own root cause; the recorder stopped is the
one root cause of every camera; a camera removed from the service is no longer expected."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.makerhub.health.manager import (
    EVENT_HEALTH_PROBLEM,
    EVENT_HEALTH_RECOVERED,
)
from dev.processes.recorder_process import RecorderServiceProcess
from dev.processes.rtsp_camera import RtspCamera
from tests.components.makerhub.cameras.conftest import refresh, set_recorder_options
from tests.helpers.recorder_service import TOKEN, recorder_service, rtsp_camera

CAMERA_PROBLEM = "binary_sensor.bench_health_problem"
RECORDER_PROBLEM = "binary_sensor.makerhub_recorder_service_problem"


@pytest.fixture
def hub_subentries() -> list[object]:
    """No adopted units."""
    return []


@pytest.fixture
def camera(socket_enabled: None) -> Iterator[RtspCamera]:
    """A real RTSP camera."""
    with rtsp_camera() as running:
        yield running


@pytest.fixture
def service(socket_enabled: None, camera: RtspCamera) -> Iterator[RecorderServiceProcess]:
    """A recorder that calls a camera lost after 2 s without pictures."""
    with recorder_service(TOKEN, "--lost-after", "2", "--stall-timeout", "1") as running:
        yield running


async def test_cameras_depend_on_the_recorder(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
    service: RecorderServiceProcess,
    camera: RtspCamera,
) -> None:
    status, answer = service.call("POST", "/api/cameras", {"source": camera.url, "name": "Bench"})
    assert status == 201, answer
    camera_item = f"camera:{answer['id']}"
    await set_recorder_options(hass, hub, recorder_url=service.url, recorder_token=TOKEN)
    health = hub.runtime_data.health
    problems = async_capture_events(hass, EVENT_HEALTH_PROBLEM)
    recovered = async_capture_events(hass, EVENT_HEALTH_RECOVERED)

    async def until(state: str) -> None:
        async with asyncio.timeout(90):
            while True:
                await refresh(hass, hub)
                if hass.states.get("sensor.bench_status").state == state:
                    return
                await asyncio.sleep(0.5)

    await until("idle")
    item = health.health(camera_item)
    assert item is not None
    assert (item.kind, item.parent, item.status) == ("camera", "recorder_service", "healthy")
    assert item.period == 15
    assert hass.states.get(CAMERA_PROBLEM).state == "off"
    assert health.health("recorder_service").status == "healthy"

    camera.kill()
    await until("error")
    state = hass.states.get(CAMERA_PROBLEM)
    assert state.state == "on"
    assert state.attributes["root_cause"] == camera_item
    assert [e.data["item"] for e in problems] == [camera_item]
    camera.start()
    await until("idle")
    assert hass.states.get(CAMERA_PROBLEM).state == "off"
    assert [e.data["item"] for e in recovered] == [camera_item]

    service.stop()
    await refresh(hass, hub)
    assert hass.states.get(RECORDER_PROBLEM).state == "on"
    state = hass.states.get(CAMERA_PROBLEM)
    assert state.state == "on"
    assert state.attributes["status"] == "down_because"
    assert state.attributes["root_cause"] == "recorder_service"
    assert [e.data["item"] for e in problems] == [camera_item, "recorder_service"]
    # The cause names the service once (the item's name), then the client's reason.
    assert health.health("recorder_service").message.startswith(
        f"Recorder service: the recorder service at {service.url} cannot be reached: "
    )

    # Restarted, the recorder connects to the camera again; under load that can take
    # longer than the 2 s "lost" limit of this test, which would be a real (second) camera
    # problem. The limit the product ships (60 s) is restored for the restart.
    service.extra_args = (*service.extra_args, "--lost-after", "60")
    service.start()
    await refresh(hass, hub)
    assert hass.states.get(RECORDER_PROBLEM).state == "off"
    status, _ = service.call("DELETE", f"/api/cameras/{answer['id']}")
    assert status in (200, 204)
    await refresh(hass, hub)
    assert health.health(camera_item) is None
    assert [e.data["item"] for e in problems] == [camera_item, "recorder_service"]
