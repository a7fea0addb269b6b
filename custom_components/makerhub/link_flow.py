"""Links from the UI and from actions: pick an output and an input (as their entities).

A link made here is checked (types, visibility, a unit feeding itself, duplicates) before
it is stored; a refused link changes nothing and says why. ``makerhub.link`` and
``makerhub.unlink`` do the same from automations and scripts.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, selector
import voluptuous as vol

from .const import DATA_LINK, DATA_OWNER, DOMAIN
from .core.links import Link, LinkError, Transform
from .core.schema import Direction
from .hub import MakerhubHub
from .runtime import flow_runtime, loaded_runtime
from .unit_links import async_add_link, async_remove_link, check_link, link_title
from .units import unit_subentries

CONF_SOURCE: Final = "source"
CONF_TARGET: Final = "target"
CONF_LINK: Final = "link"
TRANSFORM_FIELDS: Final = ("scale", "offset", "minimum", "maximum")

NUMBER = selector.NumberSelector(
    selector.NumberSelectorConfig(mode=selector.NumberSelectorMode.BOX, step="any")
)
TRANSFORM_SCHEMA: dict[vol.Marker, Any] = {vol.Optional(name): NUMBER for name in TRANSFORM_FIELDS}
LINK_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_SOURCE): selector.EntitySelector(
            selector.EntitySelectorConfig(
                integration=DOMAIN, domain=[Platform.SENSOR, Platform.BINARY_SENSOR]
            )
        ),
        vol.Required(CONF_TARGET): selector.EntitySelector(
            selector.EntitySelectorConfig(
                integration=DOMAIN,
                domain=[Platform.NUMBER, Platform.SWITCH, Platform.SELECT, Platform.TEXT],
            )
        ),
        **TRANSFORM_SCHEMA,
    }
)


def link_from_entities(hub: MakerhubHub, data: dict[str, Any]) -> Link:
    """Return the link from an output's entity to an input's entity; raise LinkError."""
    source = hub.variable_of_entity(data[CONF_SOURCE])
    target = hub.variable_of_entity(data[CONF_TARGET])
    errors: dict[str, str] = {}
    if source is None or source[1] is not Direction.OUTPUT:
        errors[CONF_SOURCE] = f"{data[CONF_SOURCE]} does not show a unit's output"
    if target is None or target[1] is not Direction.INPUT:
        errors[CONF_TARGET] = f"{data[CONF_TARGET]} does not show a unit's input"
    if errors:
        raise LinkError(errors)
    assert source is not None
    assert target is not None
    transform = None
    if any(data.get(name) is not None for name in TRANSFORM_FIELDS):
        transform = Transform(
            scale=float(data.get("scale", 1.0)),
            offset=float(data.get("offset", 0.0)),
            minimum=None if data.get("minimum") is None else float(data["minimum"]),
            maximum=None if data.get("maximum") is None else float(data["maximum"]),
        )
    return Link(source[0].uid, source[2], target[0].uid, target[2], transform)


class LinkSubentryFlow(ConfigSubentryFlow):
    """Link one unit's output to another unit's input."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Pick the output, the input and an optional scale/offset/clamp."""
        hub = flow_runtime(self._get_entry()).hub
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            try:
                link = check_link(hub, link_from_entities(hub, user_input))
            except (LinkError, ValueError) as err:
                errors["base"] = "invalid_link"
                placeholders["error"] = str(err)
            else:
                return self.async_create_entry(
                    title=link_title(hub, link),
                    data={DATA_LINK: link.to_json()},
                    unique_id=link.id,
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(LINK_SCHEMA, user_input or {}),
            errors=errors,
            description_placeholders=placeholders,
        )


# -- actions ----------------------------------------------------------------------------


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


LINK_TRANSFORM_FIELDS: dict[vol.Marker, Any] = {
    vol.Optional(name): vol.Coerce(float) for name in TRANSFORM_FIELDS
}


def _link_or_pair(data: dict[str, Any]) -> dict[str, Any]:
    if CONF_LINK in data or (CONF_SOURCE in data and CONF_TARGET in data):
        return data
    raise vol.Invalid("give the link's id, or its source and target")


def async_setup_link_services(hass: HomeAssistant) -> None:
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
