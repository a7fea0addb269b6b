"""Presence binary sensors: whether the space is active, and each station's occupancy."""

from __future__ import annotations

from homeassistant.components.binary_sensor import BinarySensorDeviceClass
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..entity import DescribedBinarySensor, MakerhubBinarySensorEntityDescription
from ..runtime import MakerhubConfigEntry
from .entity import (
    MakerhubStationEntity,
    SpaceDescribedEntity,
    StationDescribedEntity,
)
from .manager import HubPresence

SPACE_ACTIVE = MakerhubBinarySensorEntityDescription[HubPresence](
    key="space-active",
    translation_key="space_active",
    device_class=BinarySensorDeviceClass.OCCUPANCY,
    # someone is at a station (with a project, if so set)
    value_fn=lambda presence: presence.space_active,
)

STATION_OCCUPIED = MakerhubBinarySensorEntityDescription[MakerhubStationEntity](
    key="occupied",
    device_class=BinarySensorDeviceClass.OCCUPANCY,
    value_fn=lambda station: bool(station.occupants),
    # the station's display, for automations that follow people to it
    attributes_fn=lambda station: {
        "display_device_id": station.presence.displays.get(station.station.id)
    },
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Whether the space is active, and each station's occupancy."""
    presence = entry.runtime_data.presence
    async_add_entities(
        [
            PresenceBinarySensor(presence, SPACE_ACTIVE),
            *(
                StationBinarySensor(presence, station, STATION_OCCUPIED)
                for station in presence.stations
            ),
        ]
    )


class PresenceBinarySensor(SpaceDescribedEntity, DescribedBinarySensor[HubPresence]):
    """A yes/no of the whole space, on the hub's device."""


class StationBinarySensor(StationDescribedEntity, DescribedBinarySensor[MakerhubStationEntity]):
    """A yes/no of one station, on the station's device."""
