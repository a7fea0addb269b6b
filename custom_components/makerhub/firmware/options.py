"""The firmware's section of the options flow: where the firmware service is, and its
token (checked with the service, stored sealed, shown as ``***``). :data:`FIRMWARE_TOKEN`
is also what the reauthentication and add-on discovery steps store."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.helpers import selector
import voluptuous as vol

from ..core.firmware_client import FirmwareError
from ..flows import PASSWORD, OptionsSection, SealedField
from ..secrets import CONTEXT_FIRMWARE_TOKEN
from .manager import (
    CONF_FIRMWARE_TOKEN,
    CONF_FIRMWARE_URL,
    async_check_firmware,
    firmware_form_error,
)

FIRMWARE_TOKEN = SealedField(CONF_FIRMWARE_TOKEN, CONTEXT_FIRMWARE_TOKEN)
FIRMWARE_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_FIRMWARE_URL): selector.TextSelector(
            selector.TextSelectorConfig(type=selector.TextSelectorType.URL)
        ),
        vol.Optional(CONF_FIRMWARE_TOKEN): PASSWORD,
    }
)


class FirmwareOptions(OptionsSection):
    """The options flow's ``firmware`` step."""

    async def async_step_firmware(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Point the hub at the firmware service (checked; the token stored encrypted)."""
        options = self.config_entry.options
        stored = await FIRMWARE_TOKEN.async_stored(self.hass, options)
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            url = (user_input.get(CONF_FIRMWARE_URL) or "").strip().rstrip("/")
            token = FIRMWARE_TOKEN.meant(user_input.get(CONF_FIRMWARE_TOKEN) or "", stored)
            if not url:
                return self.save({CONF_FIRMWARE_URL: "", CONF_FIRMWARE_TOKEN: ""})
            try:
                await async_check_firmware(self.hass, url, token)
            except FirmwareError as err:
                errors["base"] = firmware_form_error(err)
                placeholders["error"] = str(err)
            else:
                return self.save(
                    {
                        CONF_FIRMWARE_URL: url,
                        CONF_FIRMWARE_TOKEN: await FIRMWARE_TOKEN.async_seal(self.hass, token),
                    }
                )
        suggested = user_input or {
            CONF_FIRMWARE_URL: options.get(CONF_FIRMWARE_URL, ""),
            CONF_FIRMWARE_TOKEN: FIRMWARE_TOKEN.shown(stored),
        }
        return self.async_show_form(
            step_id="firmware",
            data_schema=self.add_suggested_values_to_schema(FIRMWARE_SCHEMA, suggested),
            errors=errors,
            description_placeholders=placeholders,
        )
