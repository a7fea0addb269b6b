"""Diagnostics: the hub's runtime picture, bad-input counters, and each unit's state."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from . import MakerhubConfigEntry
from .const import DOMAIN, HUB_DEVICE_ID
from .hub import unit_diagnostics

TO_REDACT = {
    "password",
    "token",
    "secret",
    "MH_MQTT_PASSWORD",
    "MH_TOKEN",
    "WIFI_PASS",
    "unit_broker_password",
    "telemetry_dsn",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: MakerhubConfigEntry
) -> dict[str, Any]:
    """Return the hub's diagnostics."""
    return async_redact_data(
        {
            "entry": {"data": dict(entry.data), "options": dict(entry.options)},
            "hub": entry.runtime_data.diagnostics(),
        },
        TO_REDACT,
    )


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: MakerhubConfigEntry, device: dr.DeviceEntry
) -> dict[str, Any]:
    """Return one unit's diagnostics, or the telemetry's for the hub's own device."""
    hub = entry.runtime_data
    uid = next(ident for domain, ident in device.identifiers if domain == DOMAIN)
    if uid == HUB_DEVICE_ID:
        telemetry = hub.telemetry
        return {"telemetry": None if telemetry is None else telemetry.store.diagnostics()}
    unit = hub.units[uid]
    return async_redact_data(
        {
            "unit": unit_diagnostics(unit, hass.loop.time()),
            "bad_input": hub.bad_input.by_unit.get(uid, 0),
        },
        TO_REDACT,
    )
