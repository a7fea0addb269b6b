"""Unit texts: string unit inputs."""

from __future__ import annotations

from homeassistant.components.text import TextEntity
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..core.schema import Variable
from ..core.unit import UnitRuntime
from ..runtime import MakerhubConfigEntry
from .entity import MakerhubInputEntity, build_inputs
from .hub import MakerhubHub


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Give every unit, now and as units are adopted, its string inputs."""
    entry.runtime_data.hub.register_entity_builder(
        async_add_entities, build_inputs(Platform.TEXT, MakerhubText)
    )


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
