"""The firmware's section of the options flow: where the firmware service is, and its
token (checked with the service, stored sealed, shown as ``***``). :data:`FIRMWARE_TOKEN`
is also what the reauthentication and add-on discovery steps store."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlowResult

from ..core.firmware_client import FirmwareError
from ..flows import OptionsSection, SealedField, ServiceOption
from ..secrets import CONTEXT_FIRMWARE_TOKEN
from .manager import (
    CONF_FIRMWARE_TOKEN,
    CONF_FIRMWARE_URL,
    async_check_firmware,
    firmware_form_error,
)

FIRMWARE_TOKEN = SealedField(CONF_FIRMWARE_TOKEN, CONTEXT_FIRMWARE_TOKEN)
FIRMWARE_SERVICE = ServiceOption(
    step_id="firmware",
    url_key=CONF_FIRMWARE_URL,
    token=FIRMWARE_TOKEN,
    check=async_check_firmware,
    error=FirmwareError,
    form_error=firmware_form_error,
)


class FirmwareOptions(OptionsSection):
    """The options flow's ``firmware`` step."""

    async def async_step_firmware(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Point the hub at the firmware service (checked; the token stored encrypted)."""
        return await self.async_service_step(FIRMWARE_SERVICE, user_input)
