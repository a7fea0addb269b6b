"""Health of a polled service: the real desktops service stopped and started again."""

from __future__ import annotations

from collections.abc import Iterator

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.makerhub.health.manager import (
    EVENT_HEALTH_PROBLEM,
    EVENT_HEALTH_RECOVERED,
)
from dev.processes.desktops_process import DesktopsServiceProcess
from tests.components.makerhub.desktops.conftest import set_desktops_options
from tests.helpers.desktops_service import TOKEN, desktops_service

PROBLEM = "binary_sensor.makerhub_desktops_service_problem"
UP_SINCE = "sensor.makerhub_desktops_service_up_since"
LAST_FAILURE = "sensor.makerhub_desktops_service_last_failure"


@pytest.fixture
def hub_subentries() -> list[object]:
    """No adopted units."""
    return []


@pytest.fixture
def service(socket_enabled: None) -> Iterator[DesktopsServiceProcess]:
    """The real desktops service."""
    with desktops_service(allow_http=True) as running:
        yield running


async def test_a_failing_service_is_a_problem_until_it_answers(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
    service: DesktopsServiceProcess,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await set_desktops_options(hass, hub, desktops_url=service.url, desktops_token=TOKEN)
    problems = async_capture_events(hass, EVENT_HEALTH_PROBLEM)
    recovered = async_capture_events(hass, EVENT_HEALTH_RECOVERED)
    health = hub.runtime_data.health
    item = health.health("desktops_service")
    assert item is not None
    assert item.period == 30
    assert hass.states.get(PROBLEM).state == "off"
    assert hass.states.get(UP_SINCE).state != "unknown"
    assert hass.states.get(LAST_FAILURE).state == "unknown"

    service.stop()
    await hub.runtime_data.desktops.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get(PROBLEM).state == "on"
    assert hass.states.get(UP_SINCE).state == "unknown"
    assert hass.states.get(LAST_FAILURE).state != "unknown"
    assert [e.data["item"] for e in problems] == ["desktops_service"]
    assert "desktops service" in problems[0].data["message"].lower()
    assert health.health("desktops_service").restart_limit == 0  # a plain process
    assert "its service manager (systemd's restart policy) restarts it" in caplog.text

    service.start()
    await hub.runtime_data.desktops.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get(PROBLEM).state == "off"
    assert [e.data["item"] for e in recovered] == ["desktops_service"]
