"""Selects: enum unit inputs."""

from __future__ import annotations

from homeassistant.components.select import SelectEntity
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import HUB_DEVICE_ID
from .core.schema import Direction, Variable
from .core.unit import UnitRuntime
from .entity import MakerhubInputEntity, MakerhubUnitEntity, hub_device_info, variables_on
from .hub import MakerhubHub
from .presence import person_name
from .projects import DATA_PROJECTS, NO_PROJECT, Projects
from .runtime import MakerhubConfigEntry

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create selects for every unit, now and as units are adopted; a project per person."""
    runtime = entry.runtime_data
    runtime.hub.register_platform(Platform.SELECT, async_add_entities, build_selects)
    projects = hass.data[DATA_PROJECTS]
    presence = runtime.presence
    async_add_entities(ActiveProjectSelect(projects, person) for person in sorted(presence.people))
    entry.async_on_unload(
        presence.add_person_listener(
            lambda person: async_add_entities([ActiveProjectSelect(projects, person)])
        )
    )


def build_selects(hub: MakerhubHub, unit: UnitRuntime) -> list[MakerhubUnitEntity]:
    """Return a unit's selects."""
    return [
        MakerhubSelect(hub, unit, variable)
        for variable in variables_on(Platform.SELECT, unit, Direction.INPUT)
    ]


class MakerhubSelect(MakerhubInputEntity, SelectEntity):
    """An enum unit input."""

    def __init__(self, hub: MakerhubHub, unit: UnitRuntime, variable: Variable) -> None:
        """Offer the schema's options."""
        super().__init__(hub, unit, variable)
        self._attr_options = list(variable.options)

    @property
    def current_option(self) -> str | None:
        """Return the desired option."""
        value = self.variable_value
        return None if value is None else str(value)

    async def async_select_option(self, option: str) -> None:
        """Publish the chosen option."""
        await self._async_set(option)


class ActiveProjectSelect(SelectEntity):
    """The project a person works on now: one of their projects, or none.

    Changing it fires ``makerhub_project_switched`` and publishes the project's slug,
    retained, on ``<prefix>/space/people/<person>/project`` for listening devices.
    """

    _attr_has_entity_name = True
    _attr_should_poll = False
    _attr_translation_key = "active_project"

    def __init__(self, projects: Projects, person: str) -> None:
        """Name the select after the person."""
        self.projects = projects
        self.person = person
        self._attr_translation_placeholders = {"person": person_name(projects.hass, person)}
        self._attr_unique_id = f"{HUB_DEVICE_ID}-project-{person}"
        self._attr_device_info = hub_device_info()

    def _labels(self) -> dict[str, str]:
        """Return option label → project id (names, with the slug where names repeat)."""
        choices = self.projects.choices(self.person)
        names = [p.name for p in choices]
        return {
            (p.name if names.count(p.name) == 1 else f"{p.name} ({p.slug})"): p.id for p in choices
        }

    @property
    def options(self) -> list[str]:
        """Return none and the person's projects."""
        return [NO_PROJECT, *self._labels()]

    @property
    def current_option(self) -> str:
        """Return the active project's label, or none."""
        active = self.projects.active_project(self.person)
        if active is None:
            return NO_PROJECT
        return next(
            (label for label, pid in self._labels().items() if pid == active.id), NO_PROJECT
        )

    async def async_select_option(self, option: str) -> None:
        """Switch the person's active project."""
        self.projects.set_active(self.person, self._labels().get(option))

    async def async_added_to_hass(self) -> None:
        """Follow changes of projects."""
        self.async_on_remove(self.projects.add_listener(self.async_write_ha_state))
