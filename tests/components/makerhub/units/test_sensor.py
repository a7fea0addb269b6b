"""A unit's sensors: its outputs (but booleans) and the diagnostics of its state reports."""

from __future__ import annotations

from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_mqtt_message

from custom_components.makerhub.const import DOMAIN
from tests.components.makerhub.conftest import UID, bring_online, state_payload, unit_entity_id
from tests.components.makerhub.units.entity_contract import Sample, check_unit_entity_contract

pytestmark = pytest.mark.usefixtures("hub")


async def test_output_sensors(hass: HomeAssistant) -> None:
    """Outputs of every type reach their entity with the schema's metadata."""
    await bring_online(hass)
    for name, payload in (
        ("temperature", "21.46"),
        ("door", "true"),
        ("mode", "heating"),
        ("note", "hello"),
        ("count", "42"),
    ):
        async_fire_mqtt_message(hass, f"makerhub/{UID}/out/{name}", payload)
    await hass.async_block_till_done()
    temperature = hass.states.get(unit_entity_id(hass, UID, ("out", "temperature")))
    assert float(temperature.state) == 21.46
    assert temperature.attributes["unit_of_measurement"] == "°C"
    assert temperature.attributes["device_class"] == "temperature"
    assert temperature.attributes["state_class"] == "measurement"
    door = hass.states.get(unit_entity_id(hass, UID, ("out", "door")))
    assert door.state == STATE_ON
    assert door.attributes["device_class"] == "door"
    mode = hass.states.get(unit_entity_id(hass, UID, ("out", "mode")))
    assert mode.state == "heating"
    assert mode.attributes["options"] == ["idle", "heating"]
    assert hass.states.get(unit_entity_id(hass, UID, ("out", "note"))).state == "hello"
    assert hass.states.get(unit_entity_id(hass, UID, ("out", "count"))).state == "42"
    async_fire_mqtt_message(hass, f"makerhub/{UID}/out/door", "false")
    await hass.async_block_till_done()
    assert hass.states.get(unit_entity_id(hass, UID, ("out", "door"))).state == STATE_OFF


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_state_diagnostics(hass: HomeAssistant) -> None:
    """The state report feeds the diagnostic sensors and the device's version."""
    await bring_online(hass, version="2.1.0")
    assert hass.states.get(unit_entity_id(hass, UID, ("sys", "firmware_version"))).state == "2.1.0"
    assert hass.states.get(unit_entity_id(hass, UID, ("sys", "ip_address"))).state == "10.0.0.5"
    assert (
        hass.states.get(unit_entity_id(hass, UID, ("sys", "last_restart"))).state == STATE_UNKNOWN
    )
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, UID)})
    assert device.sw_version == "2.1.0"
    async_fire_mqtt_message(
        hass, f"makerhub/{UID}/sys/state", state_payload("2.1.0", uptime_ms=3_600_000)
    )
    await hass.async_block_till_done()
    restarted = hass.states.get(unit_entity_id(hass, UID, ("sys", "last_restart"))).state
    assert restarted not in (STATE_UNKNOWN, STATE_UNAVAILABLE)
    # A later report of the same boot (uptime grew with time) keeps the timestamp.
    async_fire_mqtt_message(
        hass, f"makerhub/{UID}/sys/state", state_payload("2.1.0", uptime_ms=3_600_500)
    )
    await hass.async_block_till_done()
    assert hass.states.get(unit_entity_id(hass, UID, ("sys", "last_restart"))).state == restarted


async def test_numeric_output_keeps_the_contract(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """A numeric output sensor keeps the unit-entity contract (coalesced writes)."""
    await check_unit_entity_contract(
        hass,
        hub,
        Platform.SENSOR,
        ("out", "temperature"),
        (Sample("20", "20.0"), Sample("21.46", "21.46"), Sample("23", "23.0")),
    )


async def test_enum_output_keeps_the_contract(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """An enum output sensor keeps the unit-entity contract (every change written)."""
    await check_unit_entity_contract(
        hass,
        hub,
        Platform.SENSOR,
        ("out", "mode"),
        (Sample("idle", "idle"), Sample("heating", "heating"), Sample("idle", "idle")),
    )
