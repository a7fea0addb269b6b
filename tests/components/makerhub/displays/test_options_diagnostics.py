"""The displays' options section (which displays are interactive) and their diagnostics."""

from __future__ import annotations

from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerhub.displays.manager import CONF_INTERACTIVE_DISPLAYS
from tests.components.makerhub.conftest import bring_online, unit_subentry

from .conftest import LASER, WORKBENCH, device_id, show


async def test_interactive_displays_are_chosen_among_the_adopted_ones(
    hass: HomeAssistant, hub: MockConfigEntry
) -> None:
    hass.config_entries.async_update_entry(
        hub, options={**hub.options, CONF_INTERACTIVE_DISPLAYS: ["gone00000000", LASER]}
    )
    await hass.async_block_till_done()
    result = await hass.config_entries.options.async_init(hub.entry_id)
    assert "displays" in result["menu_options"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "displays"}
    )
    assert result["type"] is FlowResultType.FORM
    field = next(iter(result["data_schema"].schema))
    assert field.default() == [LASER]  # a display removed since is not offered
    options = result["data_schema"].schema[field].config["options"]
    assert [(o["value"], o["label"]) for o in options] == [
        (LASER, "Laser display"),
        (WORKBENCH, "Workbench display"),
    ]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_INTERACTIVE_DISPLAYS: [WORKBENCH]}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert hub.options[CONF_INTERACTIVE_DISPLAYS] == [WORKBENCH]


@pytest.mark.parametrize("hub_subentries", [[unit_subentry()]])
async def test_without_displays_there_is_nothing_to_choose(
    hass: HomeAssistant, hub: MockConfigEntry, hub_subentries: list[ConfigSubentryData]
) -> None:
    result = await hass.config_entries.options.async_init(hub.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "displays"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_displays"


async def test_diagnostics_show_the_displays_never_their_signed_targets(
    hass: HomeAssistant,
    hub: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    areas: dict[str, str],
) -> None:
    await bring_online(hass, WORKBENCH)
    await show(hass, display=device_id(hass, WORKBENCH), what="idle")
    await show(hass, display=device_id(hass, LASER), what="url", target="https://x.org/?token=t1")
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, hub)
    displays = diagnostics["displays"]
    assert displays["displays"][WORKBENCH] == {
        "name": "Workbench display",
        "area": areas["Workbench"],
        "interactive": False,
        "show": "idle",
        "showing": None,
        "screen_on": None,
        "available": True,
    }
    assert displays["displays"][LASER]["show"] == "url"
    assert displays["refused_calls"] == {}
    target = diagnostics["hub"]["units"][WORKBENCH]["inputs"]["target"]
    assert target.startswith("/api/makerhub/display/idle?display=")
    assert target.endswith("&sig=**REDACTED**")
    retained = diagnostics["hub"]["retained_inputs"]
    assert all("sig=" not in str(v) or "REDACTED" in str(v) for v in retained.values())
    assert diagnostics["hub"]["units"][LASER]["inputs"]["target"] == (
        "https://x.org/?token=**REDACTED**"
    )
    device_entry = dr.async_get(hass).async_get(device_id(hass, WORKBENCH))
    assert device_entry is not None
    device = await get_diagnostics_for_device(hass, hass_client, hub, device_entry)
    assert device["unit"]["inputs"]["target"].endswith("sig=**REDACTED**")
