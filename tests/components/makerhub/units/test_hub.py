"""Entities of a unit: every platform, values both ways, availability."""

from __future__ import annotations

from datetime import timedelta
import json

from homeassistant.const import (
    ATTR_ENTITY_ID,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.makerhub.const import DOMAIN, EVENT_UNIT_EVENT
from tests.components.makerhub.conftest import UID, bring_online, state_payload

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


async def test_entities_unavailable_until_unit_reports(hass: HomeAssistant) -> None:
    """Before status and state, the unit's entities are unavailable."""
    assert hass.states.get("sensor.bench_temperature").state == STATE_UNAVAILABLE
    assert hass.states.get("binary_sensor.bench_connectivity").state == STATE_OFF
    await bring_online(hass)
    assert hass.states.get("sensor.bench_temperature").state == STATE_UNKNOWN
    assert hass.states.get("binary_sensor.bench_connectivity").state == STATE_ON


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
    temperature = hass.states.get("sensor.bench_temperature")
    assert float(temperature.state) == 21.46
    assert temperature.attributes["unit_of_measurement"] == "°C"
    assert temperature.attributes["device_class"] == "temperature"
    assert temperature.attributes["state_class"] == "measurement"
    door = hass.states.get("binary_sensor.bench_door")
    assert door.state == STATE_ON
    assert door.attributes["device_class"] == "door"
    mode = hass.states.get("sensor.bench_mode")
    assert mode.state == "heating"
    assert mode.attributes["options"] == ["idle", "heating"]
    assert hass.states.get("sensor.bench_note").state == "hello"
    assert hass.states.get("sensor.bench_count").state == "42"
    async_fire_mqtt_message(hass, f"makerhub/{UID}/out/door", "false")
    await hass.async_block_till_done()
    assert hass.states.get("binary_sensor.bench_door").state == STATE_OFF


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_state_diagnostics(hass: HomeAssistant) -> None:
    """The state report feeds the diagnostic sensors and the device's version."""
    await bring_online(hass, version="2.1.0")
    assert hass.states.get("sensor.bench_firmware_version").state == "2.1.0"
    assert hass.states.get("sensor.bench_ip_address").state == "10.0.0.5"
    assert hass.states.get("sensor.bench_last_restart").state == STATE_UNKNOWN
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, UID)})
    assert device.sw_version == "2.1.0"
    async_fire_mqtt_message(
        hass, f"makerhub/{UID}/sys/state", state_payload("2.1.0", uptime_ms=3_600_000)
    )
    await hass.async_block_till_done()
    restarted = hass.states.get("sensor.bench_last_restart").state
    assert restarted not in (STATE_UNKNOWN, STATE_UNAVAILABLE)
    # A later report of the same boot (uptime grew with time) keeps the timestamp.
    async_fire_mqtt_message(
        hass, f"makerhub/{UID}/sys/state", state_payload("2.1.0", uptime_ms=3_600_500)
    )
    await hass.async_block_till_done()
    assert hass.states.get("sensor.bench_last_restart").state == restarted


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


@pytest.mark.parametrize(
    ("service", "entity_id", "data", "topic", "payload", "state"),
    [
        ("number.set_value", "number.bench_target", {"value": 21.5}, "target", "21.5", "21.5"),
        ("number.set_value", "number.bench_level", {"value": 40}, "level", "40", "40.0"),
        ("switch.turn_on", "switch.bench_relay", {}, "relay", "true", STATE_ON),
        ("switch.turn_off", "switch.bench_relay", {}, "relay", "false", STATE_OFF),
        (
            "select.select_option",
            "select.bench_preset",
            {"option": "comfort"},
            "preset",
            "comfort",
            "comfort",
        ),
        ("text.set_value", "text.bench_label", {"value": "Lathe"}, "label", "Lathe", "Lathe"),
    ],
)
async def test_inputs_publish_retained(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    service: str,
    entity_id: str,
    data: dict[str, object],
    topic: str,
    payload: str,
    state: str,
) -> None:
    """Setting an input publishes the value, retained, on the unit's input topic."""
    await bring_online(hass)
    domain, name = service.split(".")
    mqtt_mock.async_publish.reset_mock()
    await hass.services.async_call(domain, name, {ATTR_ENTITY_ID: entity_id, **data}, blocking=True)
    mqtt_mock.async_publish.assert_called_once_with(f"makerhub/{UID}/in/{topic}", payload, 1, True)
    assert hass.states.get(entity_id).state == state


async def test_input_state_from_retained_topic(hass: HomeAssistant) -> None:
    """The desired value retained on the broker is what the input entity shows."""
    await bring_online(hass)
    async_fire_mqtt_message(hass, f"makerhub/{UID}/in/target", "12.5", retain=True)
    async_fire_mqtt_message(hass, f"makerhub/{UID}/in/relay", "true", retain=True)
    async_fire_mqtt_message(hass, f"makerhub/{UID}/in/preset", "eco", retain=True)
    async_fire_mqtt_message(hass, f"makerhub/{UID}/in/label", "Drill", retain=True)
    async_fire_mqtt_message(hass, f"makerhub/{UID}/in/level", "", retain=True)
    await hass.async_block_till_done()
    assert hass.states.get("number.bench_target").state == "12.5"
    assert hass.states.get("switch.bench_relay").state == STATE_ON
    assert hass.states.get("select.bench_preset").state == "eco"
    assert hass.states.get("text.bench_label").state == "Drill"
    assert hass.states.get("number.bench_level").state == STATE_UNKNOWN


async def test_number_entity_range(hass: HomeAssistant) -> None:
    """Range, step, unit and mode come from the schema."""
    await bring_online(hass)
    target = hass.states.get("number.bench_target")
    assert target.attributes["min"] == 5
    assert target.attributes["max"] == 30
    assert target.attributes["step"] == 0.5
    assert target.attributes["mode"] == "slider"
    assert target.attributes["unit_of_measurement"] == "°C"
    assert hass.states.get("text.bench_label").attributes["max"] == 16
    assert hass.states.get("switch.bench_relay").attributes["device_class"] == "outlet"


async def test_input_the_schema_refuses(hass: HomeAssistant) -> None:
    """A value the schema refuses never reaches MQTT; the caller gets a clear error.

    Home Assistant's own validation catches these first for service calls; the entity
    checks again so no path (scripts calling the entity, future platforms) can bypass it.
    """
    await bring_online(hass)
    entity = hass.data["entity_components"]["text"].get_entity("text.bench_label")
    with pytest.raises(ServiceValidationError) as err:
        await entity.async_set_value("x" * 17)
    assert err.value.translation_key == "invalid_input_value"
    assert "exceeds max_length 16" in str(err.value.translation_placeholders)


async def test_restart_button(hass: HomeAssistant, mqtt_mock: MqttMockHAClient) -> None:
    """The restart button publishes the restart command."""
    await bring_online(hass)
    mqtt_mock.async_publish.reset_mock()
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: "button.bench_restart"}, blocking=True
    )
    mqtt_mock.async_publish.assert_called_once_with(
        f"makerhub/{UID}/sys/cmd", json.dumps({"cmd": "restart"}, separators=(",", ":")), 1, False
    )


def fire_availability_check(hass: HomeAssistant) -> None:
    """Run the hub's periodic availability check (every 5 s)."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))


async def test_offline_status_and_timeout(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """Offline status, or a late state, makes entities unavailable; logged once each way."""
    await bring_online(hass)
    async_fire_mqtt_message(hass, f"makerhub/{UID}/out/temperature", "20")
    await hass.async_block_till_done()
    assert hass.states.get("sensor.bench_temperature").state == "20.0"

    async_fire_mqtt_message(hass, f"makerhub/{UID}/sys/status", "offline")
    await hass.async_block_till_done()
    assert hass.states.get("sensor.bench_temperature").state == STATE_UNAVAILABLE
    assert hass.states.get("binary_sensor.bench_connectivity").state == STATE_OFF
    assert caplog.text.count("is unavailable") == 1

    await bring_online(hass)
    assert hass.states.get("sensor.bench_temperature").state == "20.0"
    assert caplog.text.count("is back online") == 1

    # No state for longer than the offline timeout (90 s): unavailable again.
    hub = hass.config_entries.async_entries(DOMAIN)[0].runtime_data.hub
    unit = hub.units[UID]
    unit.last_state_at -= 120  # the last state arrived two minutes ago
    fire_availability_check(hass)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.bench_temperature").state == STATE_UNAVAILABLE
    assert caplog.text.count("is unavailable") == 2
    # Further checks while still unavailable log nothing more.
    fire_availability_check(hass)
    await hass.async_block_till_done()
    assert caplog.text.count("is unavailable") == 2


async def test_online_without_state_times_out(hass: HomeAssistant) -> None:
    """Online but silent: available for the timeout, then unavailable."""
    async_fire_mqtt_message(hass, f"makerhub/{UID}/sys/status", "online", retain=True)
    await hass.async_block_till_done()
    assert hass.states.get("button.bench_restart").state == STATE_UNKNOWN
    hub = hass.config_entries.async_entries(DOMAIN)[0].runtime_data.hub
    hub.units[UID].watch_started -= 91  # online 91 s ago, never a state
    fire_availability_check(hass)
    await hass.async_block_till_done()
    assert hass.states.get("button.bench_restart").state == STATE_UNAVAILABLE


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
