"""The unit entities' bases: availability from the unit, inputs that publish and show the
retained value, values the schema refuses."""

from __future__ import annotations

from homeassistant.const import (
    ATTR_ENTITY_ID,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import async_fire_mqtt_message
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from tests.components.makerhub.conftest import UID, bring_online, unit_entity_id

pytestmark = pytest.mark.usefixtures("hub")


async def test_entities_unavailable_until_unit_reports(hass: HomeAssistant) -> None:
    """Before status and state, the unit's entities are unavailable."""
    assert (
        hass.states.get(unit_entity_id(hass, UID, ("out", "temperature"))).state
        == STATE_UNAVAILABLE
    )
    assert hass.states.get(unit_entity_id(hass, UID, ("sys", "connectivity"))).state == STATE_OFF
    await bring_online(hass)
    assert hass.states.get(unit_entity_id(hass, UID, ("out", "temperature"))).state == STATE_UNKNOWN
    assert hass.states.get(unit_entity_id(hass, UID, ("sys", "connectivity"))).state == STATE_ON


@pytest.mark.parametrize(
    ("service", "data", "topic", "payload", "state"),
    [
        ("number.set_value", {"value": 21.5}, "target", "21.5", "21.5"),
        ("number.set_value", {"value": 40}, "level", "40", "40.0"),
        ("switch.turn_on", {}, "relay", "true", STATE_ON),
        ("switch.turn_off", {}, "relay", "false", STATE_OFF),
        (
            "select.select_option",
            {"option": "comfort"},
            "preset",
            "comfort",
            "comfort",
        ),
        ("text.set_value", {"value": "Lathe"}, "label", "Lathe", "Lathe"),
    ],
)
async def test_inputs_publish_retained(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    service: str,
    data: dict[str, object],
    topic: str,
    payload: str,
    state: str,
) -> None:
    """Setting an input publishes the value, retained, on the unit's input topic."""
    await bring_online(hass)
    domain, name = service.split(".")
    entity_id = unit_entity_id(hass, UID, ("in", topic))
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
    assert hass.states.get(unit_entity_id(hass, UID, ("in", "target"))).state == "12.5"
    assert hass.states.get(unit_entity_id(hass, UID, ("in", "relay"))).state == STATE_ON
    assert hass.states.get(unit_entity_id(hass, UID, ("in", "preset"))).state == "eco"
    assert hass.states.get(unit_entity_id(hass, UID, ("in", "label"))).state == "Drill"
    assert hass.states.get(unit_entity_id(hass, UID, ("in", "level"))).state == STATE_UNKNOWN


async def test_input_the_schema_refuses(hass: HomeAssistant) -> None:
    """A value the schema refuses never reaches MQTT; the caller gets a clear error.

    Home Assistant's own validation catches these first for service calls; the entity
    checks again so no path (scripts calling the entity, future platforms) can bypass it.
    """
    await bring_online(hass)
    entity = hass.data["entity_components"]["text"].get_entity(
        unit_entity_id(hass, UID, ("in", "label"))
    )
    with pytest.raises(ServiceValidationError) as err:
        await entity.async_set_value("x" * 17)
    assert err.value.translation_key == "invalid_input_value"
    assert "exceeds max_length 16" in str(err.value.translation_placeholders)
