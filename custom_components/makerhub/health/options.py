"""Health's section of the options flow: one item's heartbeat period and grace.

The items are those the loaded hub expects; an empty period and grace bring the item's
defaults back. Saving reloads the hub, which registers the items with their new timing.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.helpers import selector
import voluptuous as vol

from ..flows import OptionsSection, box_number
from ..runtime import flow_runtime
from .manager import CONF_HEALTH_TIMING

ITEM: str = "item"
PERIOD: str = "period"
GRACE: str = "grace"


class HealthOptions(OptionsSection):
    """The options flow's ``health`` step."""

    async def async_step_health(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Set one item's heartbeat period and grace (empty: its defaults)."""
        health = flow_runtime(self.config_entry).health
        timing: dict[str, dict[str, Any]] = dict(
            self.config_entry.options.get(CONF_HEALTH_TIMING, {})
        )
        if user_input is not None:
            item = user_input[ITEM]
            if user_input.get(PERIOD) is None and user_input.get(GRACE) is None:
                timing.pop(item, None)
            else:
                current = health.health(item)
                timing[item] = {
                    PERIOD: user_input.get(PERIOD, current.period if current else None),
                    GRACE: float(user_input.get(GRACE, current.grace if current else 0)),
                }
            return self.save({CONF_HEALTH_TIMING: timing})
        options = [
            selector.SelectOptionDict(value=item_id, label=item.spec.name)
            for item_id, item in sorted(health.items.items(), key=lambda i: i[1].spec.name)
        ]
        schema = vol.Schema(
            {
                vol.Required(ITEM): selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=options, mode=selector.SelectSelectorMode.DROPDOWN
                    )
                ),
                vol.Optional(PERIOD): box_number(1, 86400, unit="s"),
                vol.Optional(GRACE): box_number(0, 86400, unit="s"),
            }
        )
        return self.async_show_form(step_id="health", data_schema=schema)
