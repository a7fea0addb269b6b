"""The aggregate subentry flow: a sensor of one variable's telemetry aggregated over a
window ("median over 10 min"); it needs the loaded hub with telemetry configured."""

from __future__ import annotations

from typing import Any, Final

from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.const import CONF_NAME
from homeassistant.helpers import selector
import voluptuous as vol

from ..const import (
    DATA_AGGREGATION,
    DATA_DIRECTION,
    DATA_UID,
    DATA_VARIABLE,
    DATA_WINDOW,
    DOMAIN,
    SUBENTRY_AGGREGATE,
)
from ..core.telemetry import Aggregation
from ..flows import MAX_NAME_LENGTH, HubSubentryFlow, box_number

AGGREGATIONS: Final = [a.value for a in Aggregation if a is not Aggregation.RAW]
CONF_SOURCE_ENTITY: Final = "entity_id"
AGGREGATE_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_SOURCE_ENTITY): selector.EntitySelector(
            selector.EntitySelectorConfig(integration=DOMAIN)
        ),
        vol.Required(DATA_AGGREGATION): selector.SelectSelector(
            selector.SelectSelectorConfig(options=AGGREGATIONS, translation_key="aggregation")
        ),
        vol.Required(DATA_WINDOW): box_number(1, 10080, unit="min"),
        vol.Optional(CONF_NAME): str,
    }
)


class AggregateSubentryFlow(HubSubentryFlow):
    """A sensor of one variable's telemetry aggregated over a window ("median over 10 min")."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Pick the variable's entity, the aggregation and the window."""
        runtime = self.hub_runtime()
        if runtime.telemetry is None:
            return self.async_abort(reason="telemetry_not_configured")
        errors: dict[str, str] = {}
        if user_input is not None:
            found = runtime.hub.variable_of_entity(user_input[CONF_SOURCE_ENTITY])
            name = (user_input.get(CONF_NAME) or "").strip()
            if found is None:
                errors[CONF_SOURCE_ENTITY] = "not_a_variable_entity"
            elif len(name) > MAX_NAME_LENGTH:
                errors[CONF_NAME] = "invalid_name"
            else:
                unit, direction, variable = found
                aggregation = user_input[DATA_AGGREGATION]
                window = int(user_input[DATA_WINDOW])
                title = name or f"{unit.identity.name} {variable} {aggregation} {window} min"
                return self.async_create_entry(
                    title=title,
                    data={
                        DATA_UID: unit.uid,
                        DATA_DIRECTION: direction.value,
                        DATA_VARIABLE: variable,
                        DATA_AGGREGATION: aggregation,
                        DATA_WINDOW: window * 60,
                    },
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                AGGREGATE_SCHEMA,
                user_input or {DATA_AGGREGATION: Aggregation.AVG.value, DATA_WINDOW: 10},
            ),
            errors=errors,
        )


SUBENTRY_FLOWS: dict[str, type[ConfigSubentryFlow]] = {SUBENTRY_AGGREGATE: AggregateSubentryFlow}
"""Telemetry's subentry types and their flows (gathered by the config flow)."""
