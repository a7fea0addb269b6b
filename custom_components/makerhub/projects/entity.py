"""The project entities' base: one device per project, refreshed when the project changes."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..core.projects import Project, ProjectNotFoundError
from ..devices import project_device_id, project_device_info
from ..entity import MakerhubEntity
from ..features import PlatformSetup
from ..runtime import MakerhubConfigEntry
from .devices import ProjectEntityBuilder
from .store import Projects


class ProjectEntity(MakerhubEntity):
    """An entity of one project, on its device; follows every change of the projects."""

    def __init__(self, projects: Projects, project_id: str, key: str) -> None:
        """Name the entity after its project and key."""
        self.projects = projects
        self.project_id = project_id
        super().__init__(
            f"{project_device_id(project_id)}-{key}",
            project_device_info(projects.registry.get(project_id)),
        )

    @property
    def project(self) -> Project | None:
        """Return the project (None once deleted)."""
        try:
            return self.projects.registry.get(self.project_id)
        except ProjectNotFoundError:
            return None

    @property
    def available(self) -> bool:
        """Return whether the project still exists."""
        return self.project is not None

    async def async_added_to_hass(self) -> None:
        """Follow changes of projects."""
        self.async_on_remove(self.projects.add_listener(self.async_write_ha_state))


def project_platform(platform: Platform, build: ProjectEntityBuilder) -> PlatformSetup:
    """Return a project platform module's ``async_setup_entry``: every project, now and
    later, gets the entities ``build`` makes."""

    async def async_setup_entry(
        hass: HomeAssistant,
        entry: MakerhubConfigEntry,
        async_add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        entry.runtime_data.project_devices.register(platform, async_add_entities, build)

    return async_setup_entry
