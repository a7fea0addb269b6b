"""The desktop running switch and state sensor of a project, against the real service."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.makerhub.const import DOMAIN
from custom_components.makerhub.devices import project_device_id
from dev.processes.desktops_process import DesktopsServiceProcess

from .conftest import PROJECT_ID, SENSOR, SWITCH


async def switch(hass: HomeAssistant, service: str) -> None:
    """Turn the Clock desktop's switch on or off."""
    await hass.services.async_call("switch", service, {"entity_id": SWITCH}, blocking=True)
    await hass.async_block_till_done()


async def test_the_switch_starts_and_stops_the_desktop(
    hass: HomeAssistant, desktops_hub: MockConfigEntry, service: DesktopsServiceProcess
) -> None:
    assert hass.states.get(SWITCH).state == STATE_OFF
    assert hass.states.get(SENSOR).state == "stopped"
    # Both on the project's device.
    device = dr.async_get(hass).async_get_device({(DOMAIN, project_device_id(PROJECT_ID))})
    assert device is not None
    registry = er.async_get(hass)
    for entity_id in (SWITCH, SENSOR):
        entry = registry.async_get(entity_id)
        assert entry is not None
        assert entry.device_id == device.id

    await switch(hass, "turn_on")
    assert hass.states.get(SWITCH).state == STATE_ON
    assert hass.states.get(SENSOR).state == "running"
    status, desktop = service.call("GET", f"/api/desktops/{PROJECT_ID}")
    assert (status, desktop["state"]) == (200, "running")
    # The workspace is the project's repository, cloned by the service.
    workspace = service.data_dir / "homes" / PROJECT_ID / "workspace"
    assert (workspace / "README.md").read_text() == "# project\n"

    await switch(hass, "turn_off")
    assert hass.states.get(SWITCH).state == STATE_OFF
    assert hass.states.get(SENSOR).state == "stopped"
    assert service.call("GET", f"/api/desktops/{PROJECT_ID}")[1]["state"] == "stopped"


async def test_the_poll_follows_changes_made_elsewhere(
    hass: HomeAssistant, desktops_hub: MockConfigEntry, service: DesktopsServiceProcess
) -> None:
    await switch(hass, "turn_on")
    service.call("POST", f"/api/desktops/{PROJECT_ID}/suspend")
    await desktops_hub.runtime_data.desktops.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get(SENSOR).state == "suspended"
    assert hass.states.get(SWITCH).state == STATE_ON  # resumes on connect

    service.call("POST", f"/api/desktops/{PROJECT_ID}/stop")
    await desktops_hub.runtime_data.desktops.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get(SWITCH).state == STATE_OFF


async def test_without_a_service_the_entities_are_unavailable(
    hass: HomeAssistant,
    clock_project: str,
    hub: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert not hub.runtime_data.desktops.configured
    assert hass.states.get(SWITCH).state == STATE_UNAVAILABLE
    assert hass.states.get(SENSOR).state == STATE_UNAVAILABLE
    # Nothing is polled: the entities' listening does not start a poll without a service.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=5))
    await hass.async_block_till_done()
    assert hub.runtime_data.desktops.coordinator.last_exception is None
    assert [r.getMessage() for r in caplog.records if r.name.startswith("custom_components")] == []
