"""The desktops' section of the options flow: where the desktops service is, and its token
(checked with the service, stored sealed, shown as ``***``). :data:`DESKTOPS_TOKEN` is
also what the add-on discovery step stores."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigFlowResult
from homeassistant.core import HomeAssistant

from ..core.desktops_client import DesktopsError
from ..flows import OptionsSection, SealedField, ServiceOption
from ..secrets import CONTEXT_DESKTOPS_TOKEN
from .ingress import CONF_DESKTOPS_ADDON
from .manager import (
    CONF_DESKTOPS_TOKEN,
    CONF_DESKTOPS_URL,
    async_check_desktops,
    desktops_form_error,
)

DESKTOPS_TOKEN = SealedField(CONF_DESKTOPS_TOKEN, CONTEXT_DESKTOPS_TOKEN)
DESKTOPS_SERVICE = ServiceOption(
    step_id="desktops",
    url_key=CONF_DESKTOPS_URL,
    token=DESKTOPS_TOKEN,
    check=async_check_desktops,
    error=DesktopsError,
    form_error=desktops_form_error,
)


class DesktopsOptions(OptionsSection):
    """The options flow's ``desktops`` step."""

    async def async_step_desktops(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Point the hub at the desktops service (checked; the token stored encrypted)."""
        return await self.async_service_step(DESKTOPS_SERVICE, user_input)


DISCOVERY_KIND = "desktops"
"""The ``kind`` of the desktops add-on's Supervisor discovery (the firmware's has none)."""


def discovered_service(config: Mapping[str, Any]) -> tuple[str, str]:
    """Return the URL and token a desktops add-on announced."""
    return f"http://{config['host']}:{config['port']}", str(config["token"])


async def async_connect_discovered(
    hass: HomeAssistant, hub: ConfigEntry, url: str, token: str, addon: str | None = None
) -> None:
    """Store a discovered add-on's address, token (sealed) and slug (for its ingress) in
    the hub's options."""
    hass.config_entries.async_update_entry(
        hub,
        options={
            **hub.options,
            CONF_DESKTOPS_URL: url,
            CONF_DESKTOPS_TOKEN: await DESKTOPS_TOKEN.async_seal(hass, token),
            **({CONF_DESKTOPS_ADDON: addon} if addon else {}),
        },
    )
