"""Unit binary sensors: boolean unit outputs and the unit's connectivity."""

from __future__ import annotations

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
)
from homeassistant.const import EntityCategory, Platform

from ..core.schema import Direction, Variable
from ..core.unit import UnitRuntime
from .entity import MakerhubUnitEntity, MakerhubVariableEntity, unit_platform, variables_on
from .hub import MakerhubHub


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
        return self.value_as(bool)


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


async_setup_entry = unit_platform(build_binary_sensors)
