"""The unit entities' base: one device per unit, availability from the unit, values from
listeners, inputs that publish, and the builder of a platform's input entities."""

from __future__ import annotations

from collections.abc import Callable
import math
from typing import Any

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..const import DOMAIN
from ..core.errors import BadInputError
from ..core.schema import Direction, Value, Variable
from ..core.unit import AVAILABILITY, STATE, UnitRuntime
from ..entity import MakerhubEntity
from ..features import PlatformSetup
from ..runtime import MakerhubConfigEntry
from .hub import EntityBuilder, MakerhubHub
from .variables import TOPIC_LEVEL, EntityKey, entity_name, platform_for, unit_entity_unique_id


class MakerhubUnitEntity(MakerhubEntity):
    """An entity of a unit's device; unavailable while the unit is."""

    def __init__(self, hub: MakerhubHub, unit: UnitRuntime, key: EntityKey) -> None:
        """Attach to the unit's device; ``key`` is unique within the unit."""
        self.hub = hub
        self.unit = unit
        self.key = key
        super().__init__(unit_entity_unique_id(unit.uid, key), hub.device_info(unit))

    @property
    def available(self) -> bool:
        """Return whether the unit is reachable."""
        return self.unit.available

    async def async_added_to_hass(self) -> None:
        """Follow the unit's availability."""
        self.async_on_remove(self.hub.track_entity(self))
        self.async_on_remove(self.unit.add_listener(AVAILABILITY, self.async_write_ha_state))


class MakerhubStateEntity(MakerhubUnitEntity):
    """A diagnostic entity fed by the unit's ``sys/state`` reports."""

    def __init__(self, hub: MakerhubHub, unit: UnitRuntime, description: EntityDescription) -> None:
        """Describe the entity by ``description``; its key is ``("sys", key)``."""
        super().__init__(hub, unit, ("sys", description.key))
        self.entity_description = description

    async def async_added_to_hass(self) -> None:
        """Also follow state reports."""
        await super().async_added_to_hass()
        self.async_on_remove(self.unit.add_listener(STATE, self._on_state))

    @callback
    def _on_state(self) -> None:
        self.async_write_ha_state()


class MakerhubVariableEntity(MakerhubUnitEntity):
    """An entity showing one of the unit's variables; writes are coalesced."""

    def __init__(
        self, hub: MakerhubHub, unit: UnitRuntime, direction: Direction, variable: Variable
    ) -> None:
        """Name the entity after the variable."""
        super().__init__(hub, unit, (TOPIC_LEVEL[direction], variable.name))
        self.direction = direction
        self.variable = variable
        self.last_write = -math.inf
        self._attr_name = entity_name(variable)
        self._attr_icon = variable.icon

    @property
    def variable_value(self) -> Value | None:
        """Return the variable's latest value, if any arrived."""
        values = self.unit.outputs if self.direction is Direction.OUTPUT else self.unit.inputs
        return values.get(self.variable.name)

    def value_as[T](self, convert: Callable[[Value], T]) -> T | None:
        """Return the variable's latest value converted (None until one arrived)."""
        value = self.variable_value
        return None if value is None else convert(value)

    async def async_added_to_hass(self) -> None:
        """Also follow the variable's values."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.unit.add_listener((self.direction, self.variable.name), self._on_value)
        )

    async def async_will_remove_from_hass(self) -> None:
        """Drop a pending coalesced write."""
        self.hub.coalescer.discard(self)

    @callback
    def _on_value(self) -> None:
        if self.variable.is_numeric:
            self.hub.coalescer.request(self)
        else:  # state changes of these are events; an unchanged state writes nothing
            self.async_write_ha_state()


class MakerhubInputEntity(MakerhubVariableEntity):
    """An entity that sets one of the unit's inputs."""

    def __init__(self, hub: MakerhubHub, unit: UnitRuntime, variable: Variable) -> None:
        """Bind to an input variable."""
        super().__init__(hub, unit, Direction.INPUT, variable)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return the outputs of other units linked to this input."""
        links = self.hub.links.sources_of(self.unit.uid).get(self.variable.name)
        if not links:
            return None
        return {
            "linked_from": [
                {
                    "link": link.id,
                    "unit": unit.identity.name
                    if (unit := self.hub.units.get(link.source))
                    else link.source,
                    "output": link.output,
                    **({} if link.transform is None else link.transform.to_json()),
                }
                for link in links
            ]
        }

    async def _async_set(self, value: Value) -> None:
        try:
            await self.hub.async_set_input(self.unit, self.variable.name, value)
        except BadInputError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_input_value",
                translation_placeholders={"entity": self.entity_id, "error": str(err)},
            ) from err


def variables_on(platform: Platform, unit: UnitRuntime, direction: Direction) -> list[Variable]:
    """Return a unit's variables of one direction that ``platform`` shows."""
    return [
        variable
        for variable in unit.identity.schema.variables(direction).values()
        if platform_for(direction, variable) is platform
    ]


def build_inputs(platform: Platform, entity_class: type[MakerhubInputEntity]) -> EntityBuilder:
    """Return the builder of a unit's inputs on ``platform``: an ``entity_class`` each."""

    def build(hub: MakerhubHub, unit: UnitRuntime) -> list[MakerhubUnitEntity]:
        return [
            entity_class(hub, unit, variable)
            for variable in variables_on(platform, unit, Direction.INPUT)
        ]

    return build


def unit_platform(build: EntityBuilder) -> PlatformSetup:
    """Return a unit platform module's ``async_setup_entry``: every unit, now and as units
    are adopted or change, gets the entities ``build`` makes."""

    async def async_setup_entry(
        hass: HomeAssistant,
        entry: MakerhubConfigEntry,
        async_add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        entry.runtime_data.hub.register_entity_builder(async_add_entities, build)

    return async_setup_entry
