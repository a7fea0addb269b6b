"""Links from the UI and from actions: pick an output and an input (as their entities).

A link made here is checked (types, visibility, a unit feeding itself, duplicates) before
it is stored; a refused link changes nothing and says why. ``makerhub.link`` and
``makerhub.unlink`` do the same from automations and scripts.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.const import Platform
from homeassistant.helpers import selector
import voluptuous as vol

from ..const import DATA_LINK, DOMAIN
from ..core.links import LinkError
from ..runtime import flow_runtime
from .subentries import (
    CONF_SOURCE,
    CONF_TARGET,
    TRANSFORM_FIELDS,
    check_link,
    link_from_entities,
    link_title,
)

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
