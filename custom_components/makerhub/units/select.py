"""Unit selects: enum unit inputs."""

from __future__ import annotations

from homeassistant.components.select import SelectEntity
from homeassistant.const import Platform

from ..core.schema import Variable
from ..core.unit import UnitRuntime
from .entity import MakerhubInputEntity, build_inputs, unit_platform
from .hub import MakerhubHub


class MakerhubSelect(MakerhubInputEntity, SelectEntity):
    """An enum unit input."""

    def __init__(self, hub: MakerhubHub, unit: UnitRuntime, variable: Variable) -> None:
        """Offer the schema's options."""
        super().__init__(hub, unit, variable)
        self._attr_options = list(variable.options)

    @property
    def current_option(self) -> str | None:
        """Return the desired option."""
        return self.value_as(str)

    async def async_select_option(self, option: str) -> None:
        """Publish the chosen option."""
        await self._async_set(option)


async_setup_entry = unit_platform(build_inputs(Platform.SELECT, MakerhubSelect))
