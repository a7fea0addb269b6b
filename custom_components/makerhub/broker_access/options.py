"""Broker access's section of the options flow: how the broker learns each unit's
credentials and ACL, checked before it is saved (the admin password stored sealed, shown
as ``***``). :data:`ADMIN_PASSWORD` is also what the reauthentication step stores."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.helpers import selector
import voluptuous as vol

from ..const import CONF_UNIT_BROKER_HOST
from ..flows import PASSWORD, OptionsSection, SealedField, box_number
from ..secrets import CONTEXT_BROKER_ADMIN
from .access import (
    CONF_ADMIN_HOST,
    CONF_ADMIN_PASSWORD,
    CONF_ADMIN_PORT,
    CONF_ADMIN_TLS,
    CONF_ADMIN_USERNAME,
    CONF_BROKER_ACCESS,
    CONF_FILES_DIRECTORY,
    CONF_HUB_USERNAME,
    DEFAULT_FILES_DIRECTORY,
    AccessMode,
    BrokerAccessCheckError,
    async_check_broker_access,
)

ADMIN_PASSWORD = SealedField(CONF_ADMIN_PASSWORD, CONTEXT_BROKER_ADMIN)
BROKER_ACCESS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_BROKER_ACCESS): selector.SelectSelector(
            selector.SelectSelectorConfig(
                options=[mode.value for mode in AccessMode], translation_key=CONF_BROKER_ACCESS
            )
        ),
        vol.Optional(CONF_ADMIN_HOST): selector.TextSelector(),
        vol.Optional(CONF_ADMIN_PORT): box_number(1, 65535),
        vol.Optional(CONF_ADMIN_TLS): selector.BooleanSelector(),
        vol.Optional(CONF_ADMIN_USERNAME): selector.TextSelector(),
        vol.Optional(CONF_ADMIN_PASSWORD): PASSWORD,
        vol.Optional(CONF_FILES_DIRECTORY): selector.TextSelector(),
        vol.Optional(CONF_HUB_USERNAME): selector.TextSelector(),
    }
)


class BrokerAccessOptions(OptionsSection):
    """The options flow's ``broker_access`` step."""

    async def async_step_broker_access(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose how the broker learns each unit's credentials and ACL; checked before
        it is saved (the admin password stored encrypted, shown as ``***``)."""
        options = self.config_entry.options
        stored = await ADMIN_PASSWORD.async_stored(self.hass, options)
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            mode = AccessMode(user_input[CONF_BROKER_ACCESS])
            password = ADMIN_PASSWORD.meant(user_input.get(CONF_ADMIN_PASSWORD) or "", stored)
            changes = {
                key: user_input.get(key)
                for key in (
                    CONF_BROKER_ACCESS,
                    CONF_ADMIN_HOST,
                    CONF_ADMIN_USERNAME,
                    CONF_ADMIN_TLS,
                    CONF_FILES_DIRECTORY,
                    CONF_HUB_USERNAME,
                )
                if user_input.get(key) is not None
            }
            changes[CONF_ADMIN_PORT] = int(user_input.get(CONF_ADMIN_PORT) or 1883)
            try:
                await async_check_broker_access(self.hass, mode, changes, password)
            except BrokerAccessCheckError as err:
                errors["base"] = err.kind
                placeholders["error"] = str(err)
            else:
                changes[CONF_ADMIN_PASSWORD] = await ADMIN_PASSWORD.async_seal(self.hass, password)
                return self.save(changes)
        suggested = {
            CONF_BROKER_ACCESS: options.get(CONF_BROKER_ACCESS, AccessMode.NONE.value),
            CONF_ADMIN_HOST: options.get(
                CONF_ADMIN_HOST, self.config_entry.data.get(CONF_UNIT_BROKER_HOST, "")
            ),
            CONF_ADMIN_PORT: options.get(CONF_ADMIN_PORT, 1883),
            CONF_ADMIN_TLS: options.get(CONF_ADMIN_TLS, False),
            CONF_ADMIN_USERNAME: options.get(CONF_ADMIN_USERNAME, ""),
            CONF_ADMIN_PASSWORD: ADMIN_PASSWORD.shown(stored),
            CONF_FILES_DIRECTORY: options.get(CONF_FILES_DIRECTORY, DEFAULT_FILES_DIRECTORY),
            CONF_HUB_USERNAME: options.get(CONF_HUB_USERNAME, ""),
        }
        return self.async_show_form(
            step_id="broker_access",
            data_schema=self.add_suggested_values_to_schema(
                BROKER_ACCESS_SCHEMA, user_input or suggested
            ),
            errors=errors,
            description_placeholders=placeholders,
        )
