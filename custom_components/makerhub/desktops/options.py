"""The desktops' section of the options flow: where the desktops service is, and its token
(checked with the service, stored sealed, shown as ``***``). :data:`DESKTOPS_TOKEN` is
also what the add-on discovery step stores."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.helpers import selector
import voluptuous as vol

from ..core.desktops_client import DesktopsError
from ..flows import PASSWORD, OptionsSection, SealedField
from ..secrets import CONTEXT_DESKTOPS_TOKEN
from .manager import (
    CONF_DESKTOPS_TOKEN,
    CONF_DESKTOPS_URL,
    async_check_desktops,
    desktops_form_error,
)

DESKTOPS_TOKEN = SealedField(CONF_DESKTOPS_TOKEN, CONTEXT_DESKTOPS_TOKEN)
DESKTOPS_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_DESKTOPS_URL): selector.TextSelector(
            selector.TextSelectorConfig(type=selector.TextSelectorType.URL)
        ),
        vol.Optional(CONF_DESKTOPS_TOKEN): PASSWORD,
    }
)


class DesktopsOptions(OptionsSection):
    """The options flow's ``desktops`` step."""

    async def async_step_desktops(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Point the hub at the desktops service (checked; the token stored encrypted)."""
        options = self.config_entry.options
        stored = await DESKTOPS_TOKEN.async_stored(self.hass, options)
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            url = (user_input.get(CONF_DESKTOPS_URL) or "").strip().rstrip("/")
            token = DESKTOPS_TOKEN.meant(user_input.get(CONF_DESKTOPS_TOKEN) or "", stored)
            if not url:
                return self.save({CONF_DESKTOPS_URL: "", CONF_DESKTOPS_TOKEN: ""})
            try:
                await async_check_desktops(self.hass, url, token)
            except DesktopsError as err:
                errors["base"] = desktops_form_error(err)
                placeholders["error"] = str(err)
            else:
                return self.save(
                    {
                        CONF_DESKTOPS_URL: url,
                        CONF_DESKTOPS_TOKEN: await DESKTOPS_TOKEN.async_seal(self.hass, token),
                    }
                )
        suggested = user_input or {
            CONF_DESKTOPS_URL: options.get(CONF_DESKTOPS_URL, ""),
            CONF_DESKTOPS_TOKEN: DESKTOPS_TOKEN.shown(stored),
        }
        return self.async_show_form(
            step_id="desktops",
            data_schema=self.add_suggested_values_to_schema(DESKTOPS_SCHEMA, suggested),
            errors=errors,
            description_placeholders=placeholders,
        )


DISCOVERY_KIND = "desktops"
"""The ``kind`` of the desktops add-on's Supervisor discovery (the firmware's has none)."""


def discovered_service(config: Mapping[str, Any]) -> tuple[str, str]:
    """Return the URL and token a desktops add-on announced."""
    return f"http://{config['host']}:{config['port']}", str(config["token"])


async def async_connect_discovered(
    hass: HomeAssistant, hub: ConfigEntry, url: str, token: str
) -> None:
    """Store a discovered add-on's address and token (sealed) in the hub's options."""
    hass.config_entries.async_update_entry(
        hub,
        options={
            **hub.options,
            CONF_DESKTOPS_URL: url,
            CONF_DESKTOPS_TOKEN: await DESKTOPS_TOKEN.async_seal(hass, token),
        },
    )
