"""Finding a unit the way people name it in actions: by its id, its device id or its name."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr

from ..const import DOMAIN
from ..core.unit import UnitRuntime
from .hub import MakerhubHub


def unit_by_reference(hass: HomeAssistant, hub: MakerhubHub, reference: str) -> UnitRuntime:
    """Find a unit by its id, its device id or its name."""
    if unit := hub.units.get(reference):
        return unit
    if device := dr.async_get(hass).async_get(reference):
        for domain, uid in device.identifiers:
            if domain == DOMAIN and (unit := hub.units.get(uid)):
                return unit
    for unit in hub.units.values():
        if unit.identity.name.casefold() == reference.casefold():
            return unit
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="unknown_unit",
        translation_placeholders={"unit": reference},
    )
