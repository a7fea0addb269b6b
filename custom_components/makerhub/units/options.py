"""The hub's settings, a section of the options flow: topic prefix, offline timeout and
update coalescing (read by :class:`~.hub.HubOptions`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.helpers import selector
import voluptuous as vol

from ..const import (
    CONF_OFFLINE_TIMEOUT,
    CONF_PREFIX,
    CONF_UPDATE_INTERVAL,
    DEFAULT_OFFLINE_TIMEOUT,
    DEFAULT_UPDATE_INTERVAL,
)
from ..core.protocol import DEFAULT_PREFIX, validate_prefix
from ..flows import OptionsSection, box_number

SETTINGS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_PREFIX): selector.TextSelector(),
        vol.Required(CONF_OFFLINE_TIMEOUT): box_number(10, 86400, unit="s"),
        vol.Required(CONF_UPDATE_INTERVAL): box_number(0, 60, step=0.1, unit="s"),
    }
)
DEFAULT_OPTIONS: Final = {
    CONF_PREFIX: DEFAULT_PREFIX,
    CONF_OFFLINE_TIMEOUT: DEFAULT_OFFLINE_TIMEOUT,
    CONF_UPDATE_INTERVAL: DEFAULT_UPDATE_INTERVAL,
}
"""A new hub's settings."""


def typed_prefix(user_input: Mapping[str, Any]) -> str | None:
    """Return the topic prefix a form gave, checked; None when it is not a valid one."""
    try:
        return validate_prefix(user_input[CONF_PREFIX].strip())
    except ValueError:
        return None


class SettingsOptions(OptionsSection):
    """The options flow's ``settings`` step."""

    async def async_step_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show and validate the hub's settings."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if (prefix := typed_prefix(user_input)) is None:
                errors[CONF_PREFIX] = "invalid_prefix"
            else:
                return self.save({**user_input, CONF_PREFIX: prefix})
        return self.async_show_form(
            step_id="settings",
            data_schema=self.add_suggested_values_to_schema(
                SETTINGS_SCHEMA, user_input or {**DEFAULT_OPTIONS, **self.config_entry.options}
            ),
            errors=errors,
        )
