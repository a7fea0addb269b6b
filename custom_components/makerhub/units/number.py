"""Unit numbers: float and int unit inputs."""

from __future__ import annotations

from homeassistant.components.number import NumberDeviceClass, NumberEntity, NumberMode
from homeassistant.const import Platform

from ..core.schema import Variable, VarType
from ..core.unit import UnitRuntime
from .entity import MakerhubInputEntity, build_inputs, unit_platform
from .hub import MakerhubHub

UNBOUNDED = 1e9
"""The range offered when the schema gives no min or max."""


SLIDER_MAX_STEPS = 1000


class MakerhubNumber(MakerhubInputEntity, NumberEntity):
    """A numeric unit input."""

    def __init__(self, hub: MakerhubHub, unit: UnitRuntime, variable: Variable) -> None:
        """Take range, step, unit and device class from the schema."""
        super().__init__(hub, unit, variable)
        is_int = variable.type is VarType.INT
        self._attr_native_min_value = variable.min if variable.min is not None else -UNBOUNDED
        self._attr_native_max_value = variable.max if variable.max is not None else UNBOUNDED
        self._attr_native_step = variable.step or (1 if is_int else 0.01)
        self._attr_native_unit_of_measurement = variable.unit
        if variable.device_class is not None:
            self._attr_device_class = NumberDeviceClass(variable.device_class)
        bounded = variable.min is not None and variable.max is not None
        steps = (self._attr_native_max_value - self._attr_native_min_value) / self._attr_native_step
        self._attr_mode = (
            NumberMode.SLIDER if bounded and steps <= SLIDER_MAX_STEPS else NumberMode.BOX
        )

    @property
    def native_value(self) -> float | None:
        """Return the desired value."""
        return self.value_as(float)

    async def async_set_native_value(self, value: float) -> None:
        """Publish a new desired value."""
        await self._async_set(round(value) if self.variable.type is VarType.INT else value)


async_setup_entry = unit_platform(build_inputs(Platform.NUMBER, MakerhubNumber))
