"""Presence's part of the diagnostics: per station, its beacon, scanners and place, and
who is there."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.config_entries import ConfigEntry

from ..const import DATA_AREA, DATA_DISPLAY
from .manager import HubPresence, station_from_subentry


def station_device_diagnostics(
    entry: ConfigEntry, presence: HubPresence, station_id: str
) -> dict[str, Any]:
    """A station: its beacon and scanners, where it is, and who is there."""
    subentry = entry.subentries[station_id]
    station = station_from_subentry(subentry)
    return {
        "station": {
            "name": station.name,
            "beacon": asdict(station.beacon),
            "measured_power": station.measured_power,
            "scanners": sorted(station.scanners),
            "area_id": subentry.data.get(DATA_AREA),
            "display_device_id": subentry.data.get(DATA_DISPLAY),
        },
        "people": {
            person.person: {
                "distance": person.distance,
                "source": None if person.source is None else person.source.value,
                "project": person.project,
            }
            for person in presence.engine.people()
            if person.station == station_id
        },
    }
