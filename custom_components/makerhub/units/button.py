"""Unit buttons: restart a unit."""

from __future__ import annotations

from homeassistant.components.button import ButtonDeviceClass, ButtonEntity
from homeassistant.const import EntityCategory

from ..core.unit import UnitRuntime
from .entity import MakerhubUnitEntity, unit_platform
from .hub import MakerhubHub


def build_buttons(hub: MakerhubHub, unit: UnitRuntime) -> list[MakerhubUnitEntity]:
    """Return a unit's buttons."""
    return [RestartButton(hub, unit)]


class RestartButton(MakerhubUnitEntity, ButtonEntity):
    """Ask the unit to restart."""

    _attr_device_class = ButtonDeviceClass.RESTART
    _attr_entity_category = EntityCategory.CONFIG

    def __init__(self, hub: MakerhubHub, unit: UnitRuntime) -> None:
        """Key the button as the unit's restart."""
        super().__init__(hub, unit, ("sys", "restart"))

    async def async_press(self) -> None:
        """Publish the restart command."""
        await self.hub.async_send_command(self.unit, "restart")


async_setup_entry = unit_platform(build_buttons)
