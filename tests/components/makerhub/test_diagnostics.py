"""Diagnostics: counters, units, and no secrets."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_mqtt_message
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerhub.cameras.manager import CONF_RECORDER_URL
from custom_components.makerhub.const import DOMAIN, HUB_DEVICE_ID
from custom_components.makerhub.desktops.manager import CONF_DESKTOPS_URL
from custom_components.makerhub.firmware.manager import CONF_FIRMWARE_URL
from dev.processes.ports import free_port

from .conftest import HUB_OPTIONS, UID, bring_online


async def test_entry_diagnostics(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, hub: MockConfigEntry
) -> None:
    """Entry diagnostics show the hub, every unit and the bad-input counters."""
    await bring_online(hass, version="3.0.0")
    async_fire_mqtt_message(hass, f"makerhub/{UID}/out/temperature", "19.5")
    async_fire_mqtt_message(hass, f"makerhub/{UID}/out/temperature", "hot")
    async_fire_mqtt_message(
        hass, f"makerhub/{UID}/sys/log", json.dumps({"level": "error", "text": "sensor lost"})
    )
    await hass.async_block_till_done()
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, hub)
    assert diagnostics["entry"]["options"]["prefix"] == "makerhub"
    hub_info = diagnostics["hub"]
    assert hub_info["bad_input"]["by_reason"] == {"wrong_type": 1}
    assert "'hot' is not a number" in hub_info["bad_input"]["last"]["wrong_type"]
    unit = hub_info["units"][UID]
    assert unit["available"] is True
    assert unit["state"]["version"] == "3.0.0"
    assert unit["outputs"] == {"temperature": 19.5}
    assert unit["recent_logs"] == [{"level": "error", "text": "sensor lost", "ts": None}]
    assert hub_info["messages"] >= 5
    assert hub_info["output_values"] == 1


async def test_device_diagnostics_redacts_secrets(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, hub: MockConfigEntry
) -> None:
    """Device diagnostics cover one unit; secret-looking keys are redacted."""
    await bring_online(hass)
    async_fire_mqtt_message(hass, f"makerhub/{UID}/in/label", "hunter2")
    await hass.async_block_till_done()
    # An input named like a secret (a unit may well have one) is redacted.
    hub.runtime_data.hub.units[UID].inputs["password"] = "hunter2"
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, UID)})
    diagnostics = await get_diagnostics_for_device(hass, hass_client, hub, device)
    assert diagnostics["unit"]["inputs"]["password"] == "**REDACTED**"
    assert diagnostics["unit"]["name"] == "Bench"
    assert diagnostics["bad_input"] == 0


@pytest.fixture
def services_down(socket_enabled: None) -> dict[str, str]:
    """The add-on services' addresses, typed with a user and password, where nothing
    listens."""
    return {
        CONF_RECORDER_URL: f"http://maker:hunter2@127.0.0.1:{free_port()}",
        CONF_DESKTOPS_URL: f"http://maker:hunter2@127.0.0.1:{free_port()}/",
        CONF_FIRMWARE_URL: f"http://maker:p@ss@127.0.0.1:{free_port()}",
    }


@pytest.fixture
def hub_options(services_down: dict[str, str]) -> dict[str, Any]:
    """The hub pointed at the services that are down."""
    return {**HUB_OPTIONS, **services_down}


async def test_addresses_lose_their_credentials(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hub: MockConfigEntry,
    services_down: dict[str, str],
) -> None:
    """A user and password in a service's address are redacted wherever the address
    shows (the options, each feature's part, its error), the rest of it kept."""
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, hub)
    text = json.dumps(diagnostics)
    assert "hunter2" not in text
    assert "p@ss" not in text
    assert "maker:" not in text
    options = diagnostics["entry"]["options"]
    port = services_down[CONF_RECORDER_URL].rsplit(":", 1)[1]
    assert options[CONF_RECORDER_URL] == f"http://**REDACTED**@127.0.0.1:{port}"
    assert diagnostics["cameras"]["url"].startswith("http://**REDACTED**@127.0.0.1:")
    assert diagnostics["cameras"]["last_poll_succeeded"] is False
    assert diagnostics["desktops"]["url"].startswith("http://**REDACTED**@127.0.0.1:")
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, HUB_DEVICE_ID)})
    assert device is not None
    hub_device = await get_diagnostics_for_device(hass, hass_client, hub, device)
    assert "hunter2" not in json.dumps(hub_device)
    await hass.config_entries.async_unload(hub.entry_id)
