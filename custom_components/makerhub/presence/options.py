"""Presence's section of the options flow: the engine's tunables, and whether the space
counts as active only while someone works on a project."""

from __future__ import annotations

import dataclasses
from typing import Any, Final

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.helpers import selector
import voluptuous as vol

from ..const import CONF_PRESENCE_REQUIRE_PROJECT, CONF_PRESENCE_TUNABLES
from ..core.presence import PresenceConfigError, PresenceTunables
from ..flows import OptionsSection, box_number
from .manager import presence_tunables

PRESENCE_TUNABLE_FIELDS: Final = [item.name for item in dataclasses.fields(PresenceTunables)]
PRESENCE_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_PRESENCE_REQUIRE_PROJECT): selector.BooleanSelector(),
        **{
            vol.Required(name): box_number(step=1 if name == "min_adverts" else "any")
            for name in PRESENCE_TUNABLE_FIELDS
        },
    }
)


class PresenceOptions(OptionsSection):
    """The options flow's ``presence`` step."""

    async def async_step_presence(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Tune the presence engine, and say when the space counts as active."""
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            values = {name: user_input[name] for name in PRESENCE_TUNABLE_FIELDS}
            values["min_adverts"] = int(values["min_adverts"])
            try:
                PresenceTunables(**values)
            except PresenceConfigError as err:
                errors["base"] = "invalid_tunables"
                placeholders["error"] = str(err)
            else:
                return self.save(
                    {
                        CONF_PRESENCE_TUNABLES: values,
                        CONF_PRESENCE_REQUIRE_PROJECT: user_input[CONF_PRESENCE_REQUIRE_PROJECT],
                    }
                )
        current = {
            **dataclasses.asdict(presence_tunables(self.config_entry)),
            CONF_PRESENCE_REQUIRE_PROJECT: self.config_entry.options.get(
                CONF_PRESENCE_REQUIRE_PROJECT, False
            ),
        }
        return self.async_show_form(
            step_id="presence",
            data_schema=self.add_suggested_values_to_schema(PRESENCE_SCHEMA, user_input or current),
            errors=errors,
            description_placeholders=placeholders,
        )
