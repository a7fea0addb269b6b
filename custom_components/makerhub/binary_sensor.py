"""Binary sensors: boolean unit outputs and the unit's connectivity."""

from __future__ import annotations

from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .core.presence import Station
from .core.schema import Direction, Variable
from .core.unit import UnitRuntime
from .entity import (
    MakerhubPresenceEntity,
    MakerhubStationEntity,
    MakerhubTelemetryEntity,
    MakerhubUnitEntity,
    MakerhubVariableEntity,
    hub_device_info,
    variables_on,
)
from .hub import MakerhubHub
from .presence import HubPresence
from .runtime import MakerhubConfigEntry

PARALLEL_UPDATES = 0
TELEMETRY_CONNECTED = BinarySensorEntityDescription(
    key="connected",
    translation_key="telemetry_connected",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create binary sensors for every unit, now and as units are adopted."""
    runtime = entry.runtime_data
    if runtime.telemetry is not None:
        async_add_entities([TelemetryConnectedSensor(runtime.telemetry, TELEMETRY_CONNECTED)])
    runtime.hub.register_platform(Platform.BINARY_SENSOR, async_add_entities, build_binary_sensors)
    presence = runtime.presence
    async_add_entities(
        [
            SpaceActiveSensor(presence),
            *(StationOccupancySensor(presence, station) for station in presence.stations),
        ]
    )


def build_binary_sensors(hub: MakerhubHub, unit: UnitRuntime) -> list[MakerhubUnitEntity]:
    """Return a unit's binary sensors."""
    entities: list[MakerhubUnitEntity] = [
        MakerhubOutputBinarySensor(hub, unit, variable)
        for variable in variables_on(Platform.BINARY_SENSOR, unit, Direction.OUTPUT)
    ]
    entities.append(ConnectivitySensor(hub, unit))
    return entities


class MakerhubOutputBinarySensor(MakerhubVariableEntity, BinarySensorEntity):
    """A boolean unit output."""

    def __init__(self, hub: MakerhubHub, unit: UnitRuntime, variable: Variable) -> None:
        """Take the device class from the schema."""
        super().__init__(hub, unit, Direction.OUTPUT, variable)
        if variable.device_class is not None:
            self._attr_device_class = BinarySensorDeviceClass(variable.device_class)

    @property
    def is_on(self) -> bool | None:
        """Return the latest output value."""
        value = self.variable_value
        return None if value is None else bool(value)


class ConnectivitySensor(MakerhubUnitEntity, BinarySensorEntity):
    """Whether the unit is reachable; itself always available."""

    _attr_device_class = BinarySensorDeviceClass.CONNECTIVITY
    _attr_entity_category = EntityCategory.DIAGNOSTIC
    _attr_translation_key = "connectivity"

    def __init__(self, hub: MakerhubHub, unit: UnitRuntime) -> None:
        """Key the entity as the unit's connectivity."""
        super().__init__(hub, unit, ("sys", "connectivity"))

    @property
    def available(self) -> bool:
        """Return True: this entity reports the unit's availability itself."""
        return True

    @property
    def is_on(self) -> bool:
        """Return whether the unit is reachable."""
        return self.unit.available


class TelemetryConnectedSensor(MakerhubTelemetryEntity, BinarySensorEntity):
    """Whether the telemetry writer holds a connection to its database."""

    @property
    def is_on(self) -> bool:
        """Return whether the writer is connected."""
        return self.coordinator.data.connected


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
