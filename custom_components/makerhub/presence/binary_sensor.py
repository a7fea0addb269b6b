"""Presence binary sensors: whether the space is active, and each station's occupancy."""

from __future__ import annotations

from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..core.presence import Station
from ..devices import hub_device_info
from ..runtime import MakerhubConfigEntry
from .entity import MakerhubPresenceEntity, MakerhubStationEntity
from .manager import HubPresence


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Whether the space is active, and each station's occupancy."""
    presence = entry.runtime_data.presence
    async_add_entities(
        [
            SpaceActiveSensor(presence),
            *(StationOccupancySensor(presence, station) for station in presence.stations),
        ]
    )


class StationOccupancySensor(MakerhubStationEntity, BinarySensorEntity):
    """Whether anyone is at a station."""

    _attr_device_class = BinarySensorDeviceClass.OCCUPANCY

    def __init__(self, presence: HubPresence, station: Station) -> None:
        """Attach to the station's device."""
        super().__init__(presence, station, "occupied")

    @property
    def is_on(self) -> bool:
        """Return whether someone is at the station."""
        return bool(self.occupants)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the station's display, for automations that follow people to it."""
        return {"display_device_id": self.presence.displays.get(self.station.id)}


class SpaceActiveSensor(MakerhubPresenceEntity, BinarySensorEntity):
    """Whether the space is active: someone is at a station (with a project, if so set)."""

    _attr_translation_key = "space_active"
    _attr_device_class = BinarySensorDeviceClass.OCCUPANCY

    def __init__(self, presence: HubPresence) -> None:
        """Attach to the hub's device."""
        super().__init__(presence, "space-active", hub_device_info())

    @property
    def is_on(self) -> bool:
        """Return whether the space is active."""
        return self.presence.space_active
