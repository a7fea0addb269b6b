"""The hub's message path for a unit: its device and entities, availability checks,
events and logs."""

from __future__ import annotations

import json

from homeassistant.const import STATE_OFF, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
)

from custom_components.makerhub.const import DOMAIN, EVENT_UNIT_EVENT
from tests.components.makerhub.conftest import UID, bring_online, unit_entity_id
from tests.components.makerhub.units.entity_contract import fire_availability_check

pytestmark = pytest.mark.usefixtures("hub")


async def test_device_and_entities_created(hass: HomeAssistant) -> None:
    """One device per unit, one entity per variable plus the diagnostics."""
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, UID)})
    assert device is not None
    assert device.name == "Bench"
    assert device.model == "bench-v1"
    assert device.manufacturer == "Makerhub"
    entities = er.async_entries_for_device(
        er.async_get(hass), device.id, include_disabled_entities=True
    )
    by_id = {entity.entity_id: entity for entity in entities}
    expected = {
        "sensor.bench_temperature",
        "sensor.bench_mode",
        "sensor.bench_note",
        "sensor.bench_count",
        "binary_sensor.bench_door",
        "number.bench_target",
        "number.bench_level",
        "switch.bench_relay",
        "select.bench_preset",
        "text.bench_label",
        "sensor.bench_firmware_version",
        "sensor.bench_ip_address",
        "sensor.bench_wi_fi_signal",
        "sensor.bench_free_memory",
        "sensor.bench_last_restart",
        "binary_sensor.bench_connectivity",
        "binary_sensor.bench_health_problem",
        "button.bench_restart",
        "button.bench_rotate_broker_password",
    }
    assert set(by_id) == expected
    disabled = {
        entity_id
        for entity_id, entity in by_id.items()
        if entity.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    }
    assert disabled == {
        "sensor.bench_wi_fi_signal",
        "sensor.bench_free_memory",
        "sensor.bench_firmware_version",
        "sensor.bench_ip_address",
        "sensor.bench_last_restart",
        "button.bench_rotate_broker_password",
    }
    assert by_id["sensor.bench_ip_address"].entity_category == "diagnostic"
    assert by_id["button.bench_restart"].entity_category == "config"
    assert by_id["sensor.bench_temperature"].unique_id == f"{UID}-out-temperature"


async def test_version_kept_over_reload(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """Entities created before the unit's first report leave the device's version alone,
    and a unit's entities share one device description."""
    await bring_online(hass, version="2.1.0")
    await hass.config_entries.async_reload(hub.entry_id)
    await hass.async_block_till_done()
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, UID)})
    assert device is not None
    assert device.sw_version == "2.1.0"
    entities = [entity for (uid, _), entity in hub.runtime_data.hub._live.items() if uid == UID]
    assert len(entities) > 1
    assert len({id(entity.device_info) for entity in entities}) == 1
    assert "sw_version" not in entities[0].device_info
    await bring_online(hass, version="2.2.0")
    assert dr.async_get(hass).async_get_device(identifiers={(DOMAIN, UID)}).sw_version == "2.2.0"
    units_hub = hub.runtime_data.hub
    assert units_hub.device_info(units_hub.units[UID])["sw_version"] == "2.2.0"


async def test_offline_status_and_timeout(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """Offline status, or a late state, makes entities unavailable; logged once each way."""
    await bring_online(hass)
    async_fire_mqtt_message(hass, f"makerhub/{UID}/out/temperature", "20")
    await hass.async_block_till_done()
    assert hass.states.get(unit_entity_id(hass, UID, ("out", "temperature"))).state == "20.0"

    async_fire_mqtt_message(hass, f"makerhub/{UID}/sys/status", "offline")
    await hass.async_block_till_done()
    assert (
        hass.states.get(unit_entity_id(hass, UID, ("out", "temperature"))).state
        == STATE_UNAVAILABLE
    )
    assert hass.states.get(unit_entity_id(hass, UID, ("sys", "connectivity"))).state == STATE_OFF
    assert caplog.text.count("is unavailable") == 1

    await bring_online(hass)
    assert hass.states.get(unit_entity_id(hass, UID, ("out", "temperature"))).state == "20.0"
    assert caplog.text.count("is back online") == 1

    # No state for longer than the offline timeout (90 s): unavailable again.
    hub = hass.config_entries.async_entries(DOMAIN)[0].runtime_data.hub
    unit = hub.units[UID]
    unit.last_state_at -= 120  # the last state arrived two minutes ago
    fire_availability_check(hass)
    await hass.async_block_till_done()
    assert (
        hass.states.get(unit_entity_id(hass, UID, ("out", "temperature"))).state
        == STATE_UNAVAILABLE
    )
    assert caplog.text.count("is unavailable") == 2
    # Further checks while still unavailable log nothing more.
    fire_availability_check(hass)
    await hass.async_block_till_done()
    assert caplog.text.count("is unavailable") == 2


async def test_online_without_state_times_out(hass: HomeAssistant) -> None:
    """Online but silent: available for the timeout, then unavailable."""
    async_fire_mqtt_message(hass, f"makerhub/{UID}/sys/status", "online", retain=True)
    await hass.async_block_till_done()
    assert hass.states.get(unit_entity_id(hass, UID, ("sys", "restart"))).state == STATE_UNKNOWN
    hub = hass.config_entries.async_entries(DOMAIN)[0].runtime_data.hub
    hub.units[UID].watch_started -= 91  # online 91 s ago, never a state
    fire_availability_check(hass)
    await hass.async_block_till_done()
    assert hass.states.get(unit_entity_id(hass, UID, ("sys", "restart"))).state == STATE_UNAVAILABLE


async def test_unit_event_fired(hass: HomeAssistant) -> None:
    """A unit's sys/event becomes a Home Assistant event with its device."""
    events = []
    hass.bus.async_listen(EVENT_UNIT_EVENT, events.append)
    async_fire_mqtt_message(
        hass,
        f"makerhub/{UID}/sys/event",
        json.dumps({"event": "update_failed", "version": "abc", "error": "sha256 mismatch"}),
    )
    await hass.async_block_till_done()
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, UID)})
    assert len(events) == 1
    assert events[0].data == {
        "device_id": device.id,
        "unit": UID,
        "event": "update_failed",
        "version": "abc",
        "error": "sha256 mismatch",
    }


async def test_unit_logs_kept(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """Unit log records are kept for diagnostics."""
    async_fire_mqtt_message(
        hass,
        f"makerhub/{UID}/sys/log",
        json.dumps([{"level": "info", "text": "boot", "ts": 1}, {"text": "ready"}]),
    )
    await hass.async_block_till_done()
    logs = list(hub.runtime_data.hub.units[UID].logs)
    assert [record.text for record in logs] == ["boot", "ready"]
