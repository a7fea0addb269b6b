"""A unit's switches: its boolean inputs."""

from __future__ import annotations

from homeassistant.const import STATE_OFF, STATE_ON, Platform
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.components.makerhub.units.entity_contract import Sample, check_unit_entity_contract

pytestmark = pytest.mark.usefixtures("hub")


async def test_boolean_input_keeps_the_contract(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """A boolean input keeps the unit-entity contract."""
    await check_unit_entity_contract(
        hass,
        hub,
        Platform.SWITCH,
        ("in", "relay"),
        (Sample("true", STATE_ON), Sample("false", STATE_OFF), Sample("true", STATE_ON)),
    )
