"""Unit switches: boolean unit inputs."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchDeviceClass, SwitchEntity
from homeassistant.const import Platform

from ..core.schema import Variable
from ..core.unit import UnitRuntime
from .entity import MakerhubInputEntity, build_inputs, unit_platform
from .hub import MakerhubHub


class MakerhubSwitch(MakerhubInputEntity, SwitchEntity):
    """A boolean unit input."""

    def __init__(self, hub: MakerhubHub, unit: UnitRuntime, variable: Variable) -> None:
        """Take the device class from the schema."""
        super().__init__(hub, unit, variable)
        if variable.device_class is not None:
            self._attr_device_class = SwitchDeviceClass(variable.device_class)

    @property
    def is_on(self) -> bool | None:
        """Return the desired state."""
        return self.value_as(bool)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Publish ``true``."""
        await self._async_set(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Publish ``false``."""
        await self._async_set(False)


async_setup_entry = unit_platform(build_inputs(Platform.SWITCH, MakerhubSwitch))
