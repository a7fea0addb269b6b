"""Displays' section of the options flow: which displays have a keyboard and mouse.

On those, ``makerhub.show_on_display`` shows a desktop to control (when the caller may);
on the others only to view. Saving reloads the hub.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.helpers import selector
import voluptuous as vol

from ..flows import OptionsSection
from ..runtime import flow_runtime
from .manager import CONF_INTERACTIVE_DISPLAYS, display_units


class DisplaysOptions(OptionsSection):
    """The options flow's ``displays`` step."""

    async def async_step_displays(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the interactive displays among the adopted ones."""
        units = display_units(flow_runtime(self.config_entry).hub)
        if not units:
            return self.async_abort(reason="no_displays")
        if user_input is not None:
            return self.save({CONF_INTERACTIVE_DISPLAYS: user_input[CONF_INTERACTIVE_DISPLAYS]})
        known = {unit.uid for unit in units}
        current = [
            uid
            for uid in self.config_entry.options.get(CONF_INTERACTIVE_DISPLAYS, [])
            if uid in known
        ]
        schema = vol.Schema(
            {
                vol.Optional(CONF_INTERACTIVE_DISPLAYS, default=current): selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=[
                            selector.SelectOptionDict(value=unit.uid, label=unit.identity.name)
                            for unit in units
                        ],
                        multiple=True,
                        mode=selector.SelectSelectorMode.LIST,
                    )
                )
            }
        )
        return self.async_show_form(step_id="displays", data_schema=schema)
