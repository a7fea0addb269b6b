"""Presence sensors: people present, hours the space was active this week and month,
people at each station, and each person's station."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorStateClass
from homeassistant.const import UnitOfTime
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_time_change
from homeassistant.util import dt as dt_util

from ..core.periods import month_start, week_start
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

ACTIVE_HOURS_WEEK = MakerhubSensorEntityDescription[HubPresence](
    key="active-hours-week",
    translation_key="active_hours_week",
    device_class=SensorDeviceClass.DURATION,
    native_unit_of_measurement=UnitOfTime.HOURS,
    state_class=SensorStateClass.TOTAL,
    value_fn=lambda presence: presence.hours.week_hours(),
    last_reset_fn=lambda: week_start(dt_util.now()),
)

ACTIVE_HOURS_MONTH = MakerhubSensorEntityDescription[HubPresence](
    key="active-hours-month",
    translation_key="active_hours_month",
    device_class=SensorDeviceClass.DURATION,
    native_unit_of_measurement=UnitOfTime.HOURS,
    state_class=SensorStateClass.TOTAL,
    value_fn=lambda presence: presence.hours.month_hours(),
    last_reset_fn=lambda: month_start(dt_util.now()),
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
            ActiveHoursSensor(presence, ACTIVE_HOURS_WEEK),
            ActiveHoursSensor(presence, ACTIVE_HOURS_MONTH),
            *(StationSensor(presence, station, STATION_PEOPLE) for station in presence.stations),
        ]
    )
    presence.add_entities_per_person(
        entry, async_add_entities, lambda person: PersonStationSensor(presence, person)
    )


class PresenceSensor(SpaceDescribedEntity, DescribedSensor[HubPresence]):
    """A figure of the whole space, on the hub's device."""


class ActiveHoursSensor(PresenceSensor):
    """Hours the space was active in this period; counted up every minute while active,
    and from zero at the period's start."""

    async def async_added_to_hass(self) -> None:
        """Follow the count, and midnight (a new week or month)."""
        await super().async_added_to_hass()
        self.async_on_remove(self.presence.hours.add_listener(self.async_write_ha_state))
        self.async_on_remove(
            async_track_time_change(self.hass, self._midnight, hour=0, minute=0, second=0)
        )

    @callback
    def _midnight(self, _now: datetime) -> None:
        self.async_write_ha_state()


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
