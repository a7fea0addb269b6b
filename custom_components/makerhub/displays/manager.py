"""What the displays feature keeps while Home Assistant runs: the key its pages are
signed with, and the refused calls and page loads, counted by reason."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import area_registry as ar, device_registry as dr
from homeassistant.util.hass_dict import HassKey

from ..core.displays import is_display
from ..core.unit import UnitRuntime
from ..devices import DeviceKind, makerhub_device
from ..secrets import async_get_secret_box
from ..units.hub import MakerhubHub

CONF_INTERACTIVE_DISPLAYS: Final = "interactive_displays"
"""Options: the uids of the displays with a keyboard (a desktop is shown to control)."""
KEY_LABEL: Final = "makerhub display pages"
DATA_DISPLAYS: HassKey[DisplayRecord] = HassKey("makerhub_displays")


@dataclass
class DisplayRecord:
    """The refusals of the displays feature (actions and page loads), by reason."""

    refused_calls: Counter[str] = field(default_factory=Counter)
    refused_pages: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        """Return the counters for diagnostics."""
        return {
            "refused_calls": dict(self.refused_calls),
            "refused_pages": dict(self.refused_pages),
        }


def display_record(hass: HomeAssistant) -> DisplayRecord:
    """Return the feature's counters, created on first use."""
    if (record := hass.data.get(DATA_DISPLAYS)) is None:
        record = hass.data[DATA_DISPLAYS] = DisplayRecord()
    return record


async def async_page_key(hass: HomeAssistant) -> bytes:
    """Return the key the display pages are signed with (derived from the hub's key)."""
    return (await async_get_secret_box(hass)).derive(KEY_LABEL)


def interactive_displays(entry: ConfigEntry) -> frozenset[str]:
    """Return the uids of the displays configured as interactive."""
    return frozenset(entry.options.get(CONF_INTERACTIVE_DISPLAYS, ()))


def display_units(hub: MakerhubHub) -> list[UnitRuntime]:
    """Return the adopted units that are displays, by name."""
    found = [unit for unit in hub.units.values() if is_display(unit.identity.schema)]
    return sorted(found, key=lambda unit: (unit.identity.name, unit.uid))


def display_of_device(hub: MakerhubHub, device: dr.DeviceEntry) -> UnitRuntime | None:
    """Return the display a device stands for (None: not a Makerhub display)."""
    stands_for = makerhub_device(device)
    if stands_for is None or stands_for.kind is not DeviceKind.UNIT:
        return None
    unit = hub.units.get(stands_for.key)
    return unit if unit is not None and is_display(unit.identity.schema) else None


def displays_in_area(hass: HomeAssistant, hub: MakerhubHub, area_id: str) -> list[UnitRuntime]:
    """Return the displays whose device is in an area (a station's displays)."""
    devices = dr.async_entries_for_area(dr.async_get(hass), area_id)
    found = [unit for device in devices if (unit := display_of_device(hub, device))]
    return sorted(found, key=lambda unit: (unit.identity.name, unit.uid))


def area_name(hass: HomeAssistant, area_id: str) -> str:
    """Return an area's name (its id when there is no such area)."""
    area = ar.async_get(hass).async_get_area(area_id)
    return area_id if area is None else area.name


def unique_units(units: Iterable[UnitRuntime]) -> list[UnitRuntime]:
    """Return ``units`` with each unit once, in order."""
    seen: dict[str, UnitRuntime] = {}
    for unit in units:
        seen.setdefault(unit.uid, unit)
    return list(seen.values())
