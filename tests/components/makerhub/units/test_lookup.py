"""Finding a unit for an action: by its id, its device id or its name."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.makerhub.const import DOMAIN
from custom_components.makerhub.units.lookup import unit_by_reference
from tests.components.makerhub.conftest import UID


async def test_unit_by_id_device_or_name(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """Any of the three finds the unit; a name matches whatever its case."""
    units_hub = hub.runtime_data.hub
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, UID)})
    assert device is not None
    for reference in (UID, device.id, "Bench", "bENCH"):
        assert unit_by_reference(hass, units_hub, reference) is units_hub.units[UID], reference


async def test_unknown_unit_says_which(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """A reference that finds no unit is refused, naming it."""
    with pytest.raises(ServiceValidationError) as err:
        unit_by_reference(hass, hub.runtime_data.hub, "Lathe")
    assert err.value.translation_key == "unknown_unit"
    assert err.value.translation_placeholders == {"unit": "Lathe"}
