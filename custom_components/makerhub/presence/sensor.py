"""Presence sensors: people present, people at each station, and each person's station."""

from __future__ import annotations

from typing import Any

from homeassistant.components.sensor import SensorEntity, SensorStateClass
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from ..devices import hub_device_info
from ..entity import DescribedSensor, MakerhubSensorEntityDescription
from ..runtime import MakerhubConfigEntry
from .entity import (
    MakerhubPresenceEntity,
    MakerhubStationEntity,
    SpaceDescribedEntity,
    StationDescribedEntity,
)
from .manager import HubPresence, person_name, wall_time

PEOPLE_PRESENT = MakerhubSensorEntityDescription[HubPresence](
    key="people-present",
    translation_key="people_present",
    state_class=SensorStateClass.MEASUREMENT,
    value_fn=lambda presence: len(presence.engine.space().present),
    attributes_fn=lambda presence: {"people": sorted(presence.engine.space().present)},
)

STATION_PEOPLE = MakerhubSensorEntityDescription[MakerhubStationEntity](
    key="people",
    translation_key="station_people",
    state_class=SensorStateClass.MEASUREMENT,
    value_fn=lambda station: len(station.occupants),
    attributes_fn=lambda station: {"people": sorted(station.occupants)},
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """People present, people per station, and each person's station (as people appear)."""
    presence = entry.runtime_data.presence
    async_add_entities(
        [
            PresenceSensor(presence, PEOPLE_PRESENT),
            *(StationSensor(presence, station, STATION_PEOPLE) for station in presence.stations),
        ]
    )
    presence.add_entities_per_person(
        entry, async_add_entities, lambda person: PersonStationSensor(presence, person)
    )


class PresenceSensor(SpaceDescribedEntity, DescribedSensor[HubPresence]):
    """A figure of the whole space, on the hub's device."""


class StationSensor(StationDescribedEntity, DescribedSensor[MakerhubStationEntity]):
    """A figure of one station, on the station's device."""


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
