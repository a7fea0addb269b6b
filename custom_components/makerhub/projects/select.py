"""Project selects: each person's active project."""

from __future__ import annotations

from homeassistant.components.select import SelectEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..const import HUB_DEVICE_ID
from ..data import makerhub_data
from ..devices import hub_device_info
from ..entity import MakerhubEntity
from ..presence.manager import person_name
from ..runtime import MakerhubConfigEntry
from .store import NO_PROJECT, Projects


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Give every person, now and as people appear, their active-project select."""
    projects = makerhub_data(hass).projects
    entry.runtime_data.presence.add_entities_per_person(
        entry, async_add_entities, lambda person: ActiveProjectSelect(projects, person)
    )


class ActiveProjectSelect(MakerhubEntity, SelectEntity):
    """The project a person works on now: one of their projects, or none.

    Changing it fires ``makerhub_project_switched`` and publishes the project's slug,
    retained, on ``<prefix>/space/people/<person>/project`` for listening devices.
    """

    _attr_translation_key = "active_project"

    def __init__(self, projects: Projects, person: str) -> None:
        """Name the select after the person."""
        self.projects = projects
        self.person = person
        self._attr_translation_placeholders = {"person": person_name(projects.hass, person)}
        super().__init__(f"{HUB_DEVICE_ID}-project-{person}", hub_device_info())

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
