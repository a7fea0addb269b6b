"""A unit's selects: its enum inputs."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.components.makerhub.units.entity_contract import Sample, check_unit_entity_contract

pytestmark = pytest.mark.usefixtures("hub")


async def test_enum_input_keeps_the_contract(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """An enum input keeps the unit-entity contract."""
    await check_unit_entity_contract(
        hass,
        hub,
        Platform.SELECT,
        ("in", "preset"),
        (Sample("eco", "eco"), Sample("comfort", "comfort"), Sample("eco", "eco")),
    )
