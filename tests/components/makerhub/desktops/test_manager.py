"""HubDesktops: a repair issue while the service cannot be reached, gone when it answers
again; the diagnostics part; nothing without a service."""

from __future__ import annotations

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerhub.const import DOMAIN
from custom_components.makerhub.desktops.manager import ISSUE_UNREACHABLE
from custom_components.makerhub.devices import project_device_id
from dev.processes.desktops_process import DesktopsServiceProcess
from tests.helpers.desktops_service import TOKEN

from .conftest import PROJECT_ID, SENSOR, SWITCH


async def refresh(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """Poll the service now."""
    await hub.runtime_data.desktops.coordinator.async_refresh()
    await hass.async_block_till_done()


async def test_an_unreachable_service_raises_a_repair_issue(
    hass: HomeAssistant, desktops_hub: MockConfigEntry, service: DesktopsServiceProcess
) -> None:
    issues = ir.async_get(hass)
    assert issues.async_get_issue(DOMAIN, ISSUE_UNREACHABLE) is None
    assert hass.states.get(SENSOR).state == "stopped"

    service.stop()
    await refresh(hass, desktops_hub)
    issue = issues.async_get_issue(DOMAIN, ISSUE_UNREACHABLE)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["url"] == service.url
    assert "cannot be reached" in issue.translation_placeholders["error"]
    assert hass.states.get(SENSOR).state == STATE_UNAVAILABLE
    assert hass.states.get(SWITCH).state == STATE_UNAVAILABLE

    service.start()
    await refresh(hass, desktops_hub)
    assert issues.async_get_issue(DOMAIN, ISSUE_UNREACHABLE) is None
    assert hass.states.get(SENSOR).state == "stopped"


async def test_the_diagnostics_part(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    desktops_hub: MockConfigEntry,
    service: DesktopsServiceProcess,
) -> None:
    await desktops_hub.runtime_data.desktops.async_start_desktop(PROJECT_ID)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, desktops_hub)
    assert diagnostics["desktops"] == {
        "url": service.url,
        "last_poll_succeeded": True,
        "last_error": None,
        "ingress_addon": None,
        "desktops": {
            PROJECT_ID: {"state": "running", "viewers": 0, "controllers": 0, "error": None}
        },
    }
    assert diagnostics["entry"]["options"]["desktops_token"] == "**REDACTED**"
    assert TOKEN not in str(diagnostics)


async def test_without_a_service_there_is_nothing_to_poll(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, hub: MockConfigEntry
) -> None:
    desktops = hub.runtime_data.desktops
    assert not desktops.configured
    assert not desktops.available
    assert desktops.coordinator.data is None
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, hub)
    assert diagnostics["desktops"] is None
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_UNREACHABLE) is None


async def test_the_project_devices_diagnostics_show_its_desktop(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    desktops_hub: MockConfigEntry,
    service: DesktopsServiceProcess,
) -> None:
    device = dr.async_get(hass).async_get_device({(DOMAIN, project_device_id(PROJECT_ID))})
    assert device is not None
    before = await get_diagnostics_for_device(hass, hass_client, desktops_hub, device)
    assert before["desktop"] == {
        "state": "stopped",
        "known_to_service": False,
        "viewers": 0,
        "controllers": 0,
        "error": None,
    }
    await desktops_hub.runtime_data.desktops.async_start_desktop(PROJECT_ID)
    after = await get_diagnostics_for_device(hass, hass_client, desktops_hub, device)
    assert (after["desktop"]["state"], after["desktop"]["known_to_service"]) == ("running", True)
    assert after["project"]["id"] == PROJECT_ID
