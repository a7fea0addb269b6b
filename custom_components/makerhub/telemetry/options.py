"""Telemetry's section of the options flow: the database (checked by connecting, its URL
stored sealed), how long raw values are kept, and whether rollups are kept."""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.helpers import selector
import voluptuous as vol

from ..const import (
    CONF_TELEMETRY_DSN,
    CONF_TELEMETRY_RETENTION_DAYS,
    CONF_TELEMETRY_ROLLUPS,
    DEFAULT_TELEMETRY_RETENTION_DAYS,
    DEFAULT_TELEMETRY_ROLLUPS,
)
from ..core.telemetry import Dsn, DsnError, DsnErrorKind, validate_dsn
from ..flows import OptionsSection, SealedField, box_number
from ..secrets import CONTEXT_TELEMETRY_DSN

_LOGGER = logging.getLogger(__name__)

TELEMETRY_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_TELEMETRY_DSN): selector.TextSelector(),
        vol.Required(CONF_TELEMETRY_RETENTION_DAYS): box_number(1, 3650, unit="d"),
        vol.Required(CONF_TELEMETRY_ROLLUPS): selector.BooleanSelector(),
    }
)


class DsnField(SealedField):
    """The database URL: shown with its password as ``***``, the rest as it is."""

    def stand_in(self, secret: str) -> str | None:
        """Return the URL with its password hidden; None for a URL that cannot be used."""
        try:
            return Dsn(secret).redacted
        except DsnError:
            return None  # the repair issue asks for it again


DSN_FIELD = DsnField(CONF_TELEMETRY_DSN, CONTEXT_TELEMETRY_DSN)


class TelemetryOptions(OptionsSection):
    """The options flow's ``telemetry`` step."""

    async def async_step_telemetry(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Set the telemetry database (checked by connecting), retention and rollups.

        The form shows the stored URL with its password as ``***``; sent back unchanged,
        the stored password is kept.
        """
        options = self.config_entry.options
        stored = await DSN_FIELD.async_stored(self.hass, options)
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            url = DSN_FIELD.meant((user_input.get(CONF_TELEMETRY_DSN) or "").strip(), stored)
            changes: dict[str, Any] = {
                CONF_TELEMETRY_DSN: "",
                CONF_TELEMETRY_RETENTION_DAYS: int(user_input[CONF_TELEMETRY_RETENTION_DAYS]),
                CONF_TELEMETRY_ROLLUPS: user_input[CONF_TELEMETRY_ROLLUPS],
            }
            if not url:
                return self.save(changes)
            try:
                await validate_dsn(url)
            except DsnError as err:
                errors[CONF_TELEMETRY_DSN] = err.kind.value
                placeholders["error"] = str(err)
            except Exception as err:  # noqa: BLE001  (a form error, never a crashed flow)
                _LOGGER.error(
                    "Unexpected error checking the telemetry database: %s",
                    Dsn(url).redact(repr(err)),
                )
                errors[CONF_TELEMETRY_DSN] = DsnErrorKind.UNKNOWN.value
            else:
                return self.save(
                    {**changes, CONF_TELEMETRY_DSN: await DSN_FIELD.async_seal(self.hass, url)}
                )
        suggested = user_input or {
            CONF_TELEMETRY_DSN: DSN_FIELD.shown(stored),
            CONF_TELEMETRY_RETENTION_DAYS: options.get(
                CONF_TELEMETRY_RETENTION_DAYS, DEFAULT_TELEMETRY_RETENTION_DAYS
            ),
            CONF_TELEMETRY_ROLLUPS: options.get(CONF_TELEMETRY_ROLLUPS, DEFAULT_TELEMETRY_ROLLUPS),
        }
        return self.async_show_form(
            step_id="telemetry",
            data_schema=self.add_suggested_values_to_schema(TELEMETRY_SCHEMA, suggested),
            errors=errors,
            description_placeholders=placeholders,
        )
