"""The cameras' section of the options flow: where the recorder service is, and its token
(checked with the service, stored sealed, shown as ``***``). :data:`RECORDER_TOKEN` is also
what the add-on discovery step stores."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigFlowResult
from homeassistant.core import HomeAssistant

from ..core.recorder_client import RecorderError
from ..flows import OptionsSection, SealedField, ServiceOption
from ..secrets import CONTEXT_RECORDER_TOKEN
from .manager import (
    CONF_RECORDER_TOKEN,
    CONF_RECORDER_URL,
    async_check_recorder,
    recorder_form_error,
)

RECORDER_TOKEN = SealedField(CONF_RECORDER_TOKEN, CONTEXT_RECORDER_TOKEN)
RECORDER_SERVICE = ServiceOption(
    step_id="cameras",
    url_key=CONF_RECORDER_URL,
    token=RECORDER_TOKEN,
    check=async_check_recorder,
    error=RecorderError,
    form_error=recorder_form_error,
)


class CamerasOptions(OptionsSection):
    """The options flow's ``cameras`` step."""

    async def async_step_cameras(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Point the hub at the recorder service (checked; the token stored encrypted)."""
        return await self.async_service_step(RECORDER_SERVICE, user_input)


DISCOVERY_KIND = "recorder"
"""The ``kind`` of the recorder add-on's Supervisor discovery."""


def discovered_service(config: Mapping[str, Any]) -> tuple[str, str]:
    """Return the URL and token a recorder add-on announced."""
    return f"http://{config['host']}:{config['port']}", str(config["token"])


async def async_connect_discovered(
    hass: HomeAssistant, hub: ConfigEntry, url: str, token: str
) -> None:
    """Store a discovered add-on's address and token (sealed) in the hub's options."""
    hass.config_entries.async_update_entry(
        hub,
        options={
            **hub.options,
            CONF_RECORDER_URL: url,
            CONF_RECORDER_TOKEN: await RECORDER_TOKEN.async_seal(hass, token),
        },
    )
