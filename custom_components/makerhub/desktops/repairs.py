"""The fix flow of a refused desktops token: enter a new one, checked by connecting with
it, stored sealed in the hub's options (the hub reloads with it; the next good poll keeps
the issue away)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.repairs import RepairsFlow
from homeassistant.data_entry_flow import FlowResult
import voluptuous as vol

from ..core.desktops_client import DesktopsError
from ..flows import PASSWORD
from .manager import CONF_DESKTOPS_TOKEN, CONF_DESKTOPS_URL, async_check_desktops
from .options import DESKTOPS_SERVICE, DESKTOPS_TOKEN

TOKEN_SCHEMA = vol.Schema({vol.Required(CONF_DESKTOPS_TOKEN): PASSWORD})


class DesktopsTokenFlow(RepairsFlow):
    """Ask for the desktops service's new token (issue ``desktops_token_refused``)."""

    def __init__(self, entry_id: str) -> None:
        """Fix the token of the hub ``entry_id``."""
        self.entry_id = entry_id

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Show the form; check a token entered with the service before storing it."""
        entry = self.hass.config_entries.async_get_entry(self.entry_id)
        url = entry.options.get(CONF_DESKTOPS_URL) if entry is not None else None
        if entry is None or not url:
            return self.async_abort(reason="desktops_not_configured")
        errors: dict[str, str] = {}
        placeholders = {"url": url, "error": ""}
        # The flow starts with the issue's own data, not the form's.
        if user_input is not None and CONF_DESKTOPS_TOKEN in user_input:
            token = str(user_input[CONF_DESKTOPS_TOKEN]).strip()
            try:
                await async_check_desktops(self.hass, url, token)
            except DesktopsError as err:
                errors["base"] = DESKTOPS_SERVICE.form_error(err)
                placeholders["error"] = str(err)
            else:
                sealed = await DESKTOPS_TOKEN.async_seal(self.hass, token)
                self.hass.config_entries.async_update_entry(
                    entry, options={**entry.options, CONF_DESKTOPS_TOKEN: sealed}
                )
                return self.async_create_entry(data={})
        return self.async_show_form(
            step_id="init",
            data_schema=TOKEN_SCHEMA,
            errors=errors,
            description_placeholders=placeholders,
        )
