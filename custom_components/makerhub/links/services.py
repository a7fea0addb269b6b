"""Link actions: ``makerhub.link`` and ``makerhub.unlink``, checked like the UI's flow."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from ..const import DATA_OWNER, DOMAIN
from ..core.links import Link, LinkError
from ..runtime import loaded_runtime
from ..units.hub import MakerhubHub
from ..units.subentries import unit_subentries
from .subentries import (
    CONF_LINK,
    CONF_SOURCE,
    CONF_TARGET,
    TRANSFORM_FIELDS,
    async_add_link,
    async_remove_link,
    link_from_entities,
    link_title,
)


def _refused(err: Exception) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="invalid_link",
        translation_placeholders={"error": str(err)},
    )


async def _check_caller(call: ServiceCall, hub: MakerhubHub, link: Link) -> None:
    """A non-admin user may only link to (or unlink from) inputs of their own units."""
    if call.context.user_id is None:
        return
    user = await call.hass.auth.async_get_user(call.context.user_id)
    if user is None or user.is_admin:
        return
    subentry = unit_subentries(hub.entry).get(link.target)
    if subentry is None or subentry.data.get(DATA_OWNER) != user.id:
        raise _refused(LinkError({CONF_TARGET: "you may only link to inputs of your own units"}))


async def _async_link(call: ServiceCall) -> ServiceResponse:
    hub = loaded_runtime(call.hass).hub
    try:
        link = link_from_entities(hub, dict(call.data))
        await _check_caller(call, hub, link)
        link = async_add_link(call.hass, hub, link)
    except (LinkError, ValueError) as err:
        raise _refused(err) from err
    return {"link": link.id, "title": link_title(hub, link), **link.to_json()}


async def _async_unlink(call: ServiceCall) -> ServiceResponse:
    hub = loaded_runtime(call.hass).hub
    try:
        if CONF_LINK in call.data:
            link_id = call.data[CONF_LINK]
        else:
            link_id = link_from_entities(hub, dict(call.data)).id
        link = next((item for item in hub.links.links() if item.id == link_id), None)
        if link is not None:
            await _check_caller(call, hub, link)
        removed = async_remove_link(call.hass, hub, link_id)
    except (LinkError, ValueError) as err:
        raise _refused(err) from err
    return {"link": removed.id}


def _link_or_pair(data: dict[str, Any]) -> dict[str, Any]:
    if CONF_LINK in data or (CONF_SOURCE in data and CONF_TARGET in data):
        return data
    raise vol.Invalid("give the link's id, or its source and target")


def async_setup_services(hass: HomeAssistant) -> None:
    """Register ``makerhub.link`` and ``makerhub.unlink``."""
    hass.services.async_register(
        DOMAIN,
        "link",
        _async_link,
        schema=vol.Schema(
            {
                vol.Required(CONF_SOURCE): cv.entity_id,
                vol.Required(CONF_TARGET): cv.entity_id,
                **LINK_TRANSFORM_FIELDS,
            }
        ),
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        "unlink",
        _async_unlink,
        schema=vol.All(
            vol.Schema(
                {
                    vol.Optional(CONF_LINK): cv.string,
                    vol.Optional(CONF_SOURCE): cv.entity_id,
                    vol.Optional(CONF_TARGET): cv.entity_id,
                }
            ),
            _link_or_pair,
        ),
        supports_response=SupportsResponse.OPTIONAL,
    )


LINK_TRANSFORM_FIELDS: dict[vol.Marker, Any] = {
    vol.Optional(name): vol.Coerce(float) for name in TRANSFORM_FIELDS
}
