"""Displays' part of the diagnostics: each display's area, whether it is interactive,
what it is told and shows, and the refused calls and page loads (never a target: the
hub's pages carry their signature in it)."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from ..const import DOMAIN
from ..runtime import MakerhubRuntime
from .manager import display_record, display_units, interactive_displays


def displays_diagnostics(hass: HomeAssistant, runtime: MakerhubRuntime) -> dict[str, Any]:
    """Return the displays and the feature's refusals."""
    devices = dr.async_get(hass)
    interactive = interactive_displays(runtime.hub.entry)
    displays = {}
    for unit in display_units(runtime.hub):
        device = devices.async_get_device(identifiers={(DOMAIN, unit.uid)})
        displays[unit.uid] = {
            "name": unit.identity.name,
            "area": None if device is None else device.area_id,
            "interactive": unit.uid in interactive,
            "show": unit.inputs.get("show"),
            "showing": unit.outputs.get("showing"),
            "screen_on": unit.outputs.get("screen_on"),
            "available": unit.available,
        }
    return {"displays": displays, **display_record(hass).as_dict()}
