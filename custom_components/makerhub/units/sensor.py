"""Unit sensors: unit outputs (numbers, text, enums) and the unit's diagnostic state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
    EntityCategory,
    Platform,
    UnitOfInformation,
)
from homeassistant.core import callback
from homeassistant.util import dt as dt_util

from ..core.protocol import UnitState
from ..core.schema import Direction, Variable, VarType
from ..core.unit import UnitRuntime
from .entity import (
    MakerhubStateEntity,
    MakerhubUnitEntity,
    MakerhubVariableEntity,
    unit_platform,
    variables_on,
)
from .hub import MakerhubHub

RESTART_JITTER = timedelta(seconds=60)
"""Uptime-derived restart times within this of the last one are the same restart."""


@dataclass(frozen=True, kw_only=True)
class UnitStateSensorDescription(SensorEntityDescription):
    """A diagnostic sensor read from the unit's state report."""

    value_fn: Callable[[UnitState], str | int | None]


STATE_SENSORS: tuple[UnitStateSensorDescription, ...] = (
    UnitStateSensorDescription(
        key="firmware_version",
        translation_key="firmware_version",
        entity_category=EntityCategory.DIAGNOSTIC,
        # The device page shows the version already; a sensor is for automations.
        entity_registry_enabled_default=False,
        value_fn=lambda state: state.version,
    ),
    UnitStateSensorDescription(
        key="ip_address",
        translation_key="ip_address",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda state: state.ip,
    ),
    UnitStateSensorDescription(
        key="rssi",
        translation_key="rssi",
        device_class=SensorDeviceClass.SIGNAL_STRENGTH,
        native_unit_of_measurement=SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda state: state.rssi,
    ),
    UnitStateSensorDescription(
        key="memory_free",
        translation_key="memory_free",
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.KIBIBYTES,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda state: state.mem_free,
    ),
)


def build_sensors(hub: MakerhubHub, unit: UnitRuntime) -> list[MakerhubUnitEntity]:
    """Return a unit's sensors."""
    entities: list[MakerhubUnitEntity] = [
        MakerhubOutputSensor(hub, unit, variable)
        for variable in variables_on(Platform.SENSOR, unit, Direction.OUTPUT)
    ]
    entities.extend(UnitStateSensor(hub, unit, description) for description in STATE_SENSORS)
    entities.append(LastRestartSensor(hub, unit))
    return entities


class MakerhubOutputSensor(MakerhubVariableEntity, SensorEntity):
    """A unit output shown as a sensor."""

    def __init__(self, hub: MakerhubHub, unit: UnitRuntime, variable: Variable) -> None:
        """Take unit, device class, state class and precision from the schema."""
        super().__init__(hub, unit, Direction.OUTPUT, variable)
        if variable.type is VarType.ENUM:
            self._attr_device_class = SensorDeviceClass.ENUM
            self._attr_options = list(variable.options)
        elif variable.device_class is not None:
            self._attr_device_class = SensorDeviceClass(variable.device_class)
        if variable.is_numeric:
            self._attr_native_unit_of_measurement = variable.unit
            self._attr_suggested_display_precision = variable.precision
            if variable.state_class is not None:
                self._attr_state_class = SensorStateClass(variable.state_class)

    @property
    def native_value(self) -> str | int | float | None:
        """Return the latest output value."""
        return self.variable_value


class UnitStateSensor(MakerhubStateEntity, SensorEntity):
    """A field of the unit's state report."""

    entity_description: UnitStateSensorDescription

    @property
    def native_value(self) -> str | int | None:
        """Return the field from the latest state report."""
        state = self.unit.state
        return None if state is None else self.entity_description.value_fn(state)


class LastRestartSensor(MakerhubStateEntity, SensorEntity):
    """When the unit last started, from its uptime (a timestamp does not tick)."""

    def __init__(self, hub: MakerhubHub, unit: UnitRuntime) -> None:
        """Describe the timestamp sensor."""
        super().__init__(
            hub,
            unit,
            SensorEntityDescription(
                key="last_restart",
                translation_key="last_restart",
                device_class=SensorDeviceClass.TIMESTAMP,
                entity_category=EntityCategory.DIAGNOSTIC,
                # A crash loop shows as the connectivity sensor flapping already; each
                # live entity costs every unit memory (see bench/ingest.py).
                entity_registry_enabled_default=False,
            ),
        )
        self._restarted_at: datetime | None = None

    @callback
    def _on_state(self) -> None:
        state = self.unit.state
        if state is None or state.uptime_ms is None:
            return
        restarted = dt_util.utcnow() - timedelta(milliseconds=state.uptime_ms)
        if self._restarted_at is None or abs(restarted - self._restarted_at) > RESTART_JITTER:
            self._restarted_at = restarted.replace(microsecond=0)
            self.async_write_ha_state()

    async def async_added_to_hass(self) -> None:
        """Compute from a state that arrived before the entity was added."""
        await super().async_added_to_hass()
        self._on_state()

    @property
    def native_value(self) -> datetime | None:
        """Return the restart time."""
        return self._restarted_at


async_setup_entry = unit_platform(build_sensors)
