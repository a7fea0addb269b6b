"""Presence sensors: people present, people at each station, and each person's station."""

from __future__ import annotations

from typing import Any

from homeassistant.components.sensor import (
    SensorEntity,
    SensorStateClass,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from ..core.presence import Station
from ..devices import hub_device_info
from ..runtime import MakerhubConfigEntry
from .entity import MakerhubPresenceEntity, MakerhubStationEntity
from .manager import HubPresence, person_name, wall_time


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """People present, people per station, and each person's station (as people appear)."""
    presence = entry.runtime_data.presence
    async_add_entities(
        [
            PeoplePresentSensor(presence),
            *(StationPeopleSensor(presence, station) for station in presence.stations),
            *(PersonStationSensor(presence, person) for person in sorted(presence.people)),
        ]
    )
    entry.async_on_unload(
        presence.add_person_listener(
            lambda person: async_add_entities([PersonStationSensor(presence, person)])
        )
    )


class PersonStationSensor(MakerhubPresenceEntity, SensorEntity):
    """Where a person is: a station's name, or ``away``."""

    _attr_translation_key = "person_station"

    def __init__(self, presence: HubPresence, person: str) -> None:
        """Name the sensor after the person."""
        super().__init__(presence, f"person-{person}", hub_device_info())
        self.person = person
        self._attr_translation_placeholders = {"person": person_name(presence.hass, person)}

    @property
    def native_value(self) -> str:
        """Return the station's name, or away."""
        current = self.presence.engine.person(self.person)
        return self.presence.station_name(None if current is None else current.station)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the distance, the source and when the person was last seen."""
        current = self.presence.engine.person(self.person)
        if current is None:
            return {"person": self.person}
        return {
            "person": self.person,
            "distance": None if current.distance is None else round(current.distance, 2),
            "source": None if current.source is None else current.source.value,
            "last_seen": (
                None
                if current.last_seen is None
                else dt_util.utc_from_timestamp(wall_time(current.last_seen)).isoformat()
            ),
            "project": current.project,
        }


class StationPeopleSensor(MakerhubStationEntity, SensorEntity):
    """How many people are at a station."""

    _attr_translation_key = "station_people"
    _attr_state_class = SensorStateClass.MEASUREMENT

    def __init__(self, presence: HubPresence, station: Station) -> None:
        """Attach to the station's device."""
        super().__init__(presence, station, "people")

    @property
    def native_value(self) -> int:
        """Return the number of people at the station."""
        return len(self.occupants)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return who is there."""
        return {"people": sorted(self.occupants)}


class PeoplePresentSensor(MakerhubPresenceEntity, SensorEntity):
    """How many people are in the space (at any station)."""

    _attr_translation_key = "people_present"
    _attr_state_class = SensorStateClass.MEASUREMENT

    def __init__(self, presence: HubPresence) -> None:
        """Attach to the hub's device."""
        super().__init__(presence, "people-present", hub_device_info())

    @property
    def native_value(self) -> int:
        """Return the number of people present."""
        return len(self.presence.engine.space().present)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return who is present."""
        return {"people": sorted(self.presence.engine.space().present)}
