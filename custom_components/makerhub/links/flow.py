"""The link subentry flow: pick an output and an input (as their entities).

A link made here is checked (types, visibility, a unit feeding itself, duplicates) before
it is stored; a refused link changes nothing and says why. The ``makerhub.link`` and
``makerhub.unlink`` actions (``services.py``) do the same from automations and scripts.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.const import Platform
from homeassistant.helpers import selector
import voluptuous as vol

from ..const import DATA_LINK, DOMAIN, SUBENTRY_LINK
from ..core.links import LinkError
from ..flows import HubSubentryFlow, box_number
from .subentries import (
    CONF_SOURCE,
    CONF_TARGET,
    TRANSFORM_FIELDS,
    check_link,
    link_from_entities,
    link_title,
)

NUMBER = box_number(step="any")
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


class LinkSubentryFlow(HubSubentryFlow):
    """Link one unit's output to another unit's input."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Pick the output, the input and an optional scale/offset/clamp."""
        hub = self.hub_runtime().hub
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


SUBENTRY_FLOWS: dict[str, type[ConfigSubentryFlow]] = {SUBENTRY_LINK: LinkSubentryFlow}
"""The links' subentry types and their flows (gathered by the config flow)."""
