"""Unit buttons: restart a unit."""

from __future__ import annotations

from homeassistant.components.button import ButtonDeviceClass, ButtonEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..core.unit import UnitRuntime
from ..runtime import MakerhubConfigEntry
from .entity import MakerhubUnitEntity
from .hub import MakerhubHub


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Give every unit, now and as units are adopted, its restart button."""
    entry.runtime_data.hub.register_entity_builder(async_add_entities, build_buttons)


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
