"""A unit's numbers: its numeric inputs."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.components.makerhub.conftest import UID, bring_online, unit_entity_id
from tests.components.makerhub.units.entity_contract import Sample, check_unit_entity_contract

pytestmark = pytest.mark.usefixtures("hub")


async def test_number_entity_range(hass: HomeAssistant) -> None:
    """Range, step, unit and mode come from the schema."""
    await bring_online(hass)
    target = hass.states.get(unit_entity_id(hass, UID, ("in", "target")))
    assert target.attributes["min"] == 5
    assert target.attributes["max"] == 30
    assert target.attributes["step"] == 0.5
    assert target.attributes["mode"] == "slider"
    assert target.attributes["unit_of_measurement"] == "°C"
    assert hass.states.get(unit_entity_id(hass, UID, ("in", "label"))).attributes["max"] == 16
    assert (
        hass.states.get(unit_entity_id(hass, UID, ("in", "relay"))).attributes["device_class"]
        == "outlet"
    )


async def test_numeric_input_keeps_the_contract(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """A numeric input keeps the unit-entity contract."""
    await check_unit_entity_contract(
        hass,
        hub,
        Platform.NUMBER,
        ("in", "target"),
        (Sample("12.5", "12.5"), Sample("20", "20.0"), Sample("21.5", "21.5")),
    )
