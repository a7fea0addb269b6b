"""Health's action: ``makerhub.restart_item`` restarts the item behind a health problem
sensor now, through its restart path (a unit's restart command, the Supervisor for an
add-on, systemd for a service run by the shipped units)."""

from __future__ import annotations

from typing import Final

from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from ..const import DOMAIN
from ..runtime import loaded_runtime
from .manager import RestartError

SERVICE_RESTART_ITEM: Final = "restart_item"
RESTART_ITEM_SCHEMA: Final = vol.Schema({vol.Required("item"): cv.entity_id})


async def _async_restart_item(call: ServiceCall) -> None:
    health = loaded_runtime(call.hass).health
    entity_id: str = call.data["item"]
    item = health.item_of_entity(entity_id)
    if item is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_health_item",
            translation_placeholders={"entity": entity_id},
        )
    if item.restart is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="item_not_restartable",
            translation_placeholders={"name": item.spec.name},
        )
    try:
        await health.async_restart_now(item)
    except RestartError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="item_restart_failed",
            translation_placeholders={"name": item.spec.name, "error": str(err)},
        ) from err


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the health action."""
    hass.services.async_register(
        DOMAIN, SERVICE_RESTART_ITEM, _async_restart_item, schema=RESTART_ITEM_SCHEMA
    )
