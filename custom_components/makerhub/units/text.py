"""Unit texts: string unit inputs."""

from __future__ import annotations

from homeassistant.components.text import TextEntity
from homeassistant.const import Platform

from ..core.schema import Variable
from ..core.unit import UnitRuntime
from .entity import MakerhubInputEntity, build_inputs, unit_platform
from .hub import MakerhubHub


class MakerhubText(MakerhubInputEntity, TextEntity):
    """A string unit input."""

    def __init__(self, hub: MakerhubHub, unit: UnitRuntime, variable: Variable) -> None:
        """Limit the length as the schema does."""
        super().__init__(hub, unit, variable)
        self._attr_native_max = variable.max_length

    @property
    def native_value(self) -> str | None:
        """Return the desired text."""
        return self.value_as(str)

    async def async_set_value(self, value: str) -> None:
        """Publish the new text."""
        await self._async_set(value)


async_setup_entry = unit_platform(build_inputs(Platform.TEXT, MakerhubText))
