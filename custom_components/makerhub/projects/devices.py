"""Each project as a Home Assistant device, with its entities on every platform.

Projects come and go through the API, the actions and the wizard; :class:`ProjectDevices`
follows the registry: a new project gets its entities (attached to its wizard subentry when
it has one), a deleted project loses its device and with it its entities.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity import Entity

from ..const import DATA_PROJECT_ID, DOMAIN, SUBENTRY_PROJECT
from ..devices import project_device_id
from ..subentries import subentries_by
from .store import Projects

type AddEntities = Callable[..., None]
type ProjectEntityBuilder = Callable[[Projects, str], Iterable[Entity]]


def project_subentries(entry: ConfigEntry) -> dict[str, str]:
    """Return project id → the id of the wizard subentry that created it."""
    return {
        project_id: subentry.subentry_id
        for project_id, subentry in subentries_by(entry, DATA_PROJECT_ID, SUBENTRY_PROJECT).items()
    }


class ProjectDevices:
    """Keeps every project's device and entities in step with the registry."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, projects: Projects) -> None:
        """Prepare; nothing happens until platforms register."""
        self.hass = hass
        self.entry = entry
        self.projects = projects
        self._registrations: list[tuple[Platform, AddEntities, ProjectEntityBuilder]] = []
        """Every feature's builder of a platform (projects and desktops share the sensor)."""
        self._known: set[str] = set()
        self._pending: set[str] = set()
        """Projects the wizard made whose subentry is not stored yet (their entities wait)."""
        self._subentries = project_subentries(entry)
        self._unlisten: CALLBACK_TYPE | None = None

    @callback
    def register(
        self, platform: Platform, add_entities: AddEntities, build: ProjectEntityBuilder
    ) -> None:
        """Add a platform's entities for every project, now and as projects appear."""
        registration = (platform, add_entities, build)
        self._registrations.append(registration)
        for project in self.projects.registry.find():
            self._add(project.id, registration)
        if self._unlisten is None:
            self._known = {project.id for project in self.projects.registry.find()}
            self._unlisten = self.projects.add_listener(self._changed)
            self.entry.async_on_unload(self._stop)

    @callback
    def _stop(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None

    def _add(
        self,
        project_id: str,
        registration: tuple[Platform, AddEntities, ProjectEntityBuilder],
    ) -> None:
        _platform, add_entities, build = registration
        kwargs: dict[str, Any] = {}
        if (subentry_id := project_subentries(self.entry).get(project_id)) is not None:
            kwargs["config_subentry_id"] = subentry_id
        add_entities(list(build(self.projects, project_id)), **kwargs)

    @callback
    def expect_subentry(self, project_id: str) -> None:
        """Hold a new project's entities until its wizard subentry is stored."""
        self._pending.add(project_id)

    @callback
    def subentries_changed(self) -> None:
        """Add the entities of projects whose subentry arrived; delete the projects whose
        subentry the user deleted."""
        now = project_subentries(self.entry)
        for project_id in set(self._subentries) - set(now):
            if project_id in self._known:
                self.projects.saved(self.projects.registry.delete(project_id))
        self._subentries = now
        for project_id in sorted(self._pending & set(now)):
            self._pending.discard(project_id)
            self._known.add(project_id)
            for registration in self._registrations:
                self._add(project_id, registration)

    @callback
    def _changed(self) -> None:
        registry = dr.async_get(self.hass)
        projects = {project.id: project for project in self.projects.registry.find()}
        now = set(projects)
        for project_id in sorted(now - self._known - self._pending):
            for registration in self._registrations:
                self._add(project_id, registration)
        for project_id in now & self._known:
            device = registry.async_get_device({(DOMAIN, project_device_id(project_id))})
            project = projects[project_id]
            if device is not None and (device.name, device.configuration_url) != (
                project.name,
                project.github_url,
            ):
                registry.async_update_device(
                    device.id, name=project.name, configuration_url=project.github_url
                )
        gone = self._known - now
        self._known = now - self._pending
        self._pending &= now
        for project_id in gone:
            device = registry.async_get_device({(DOMAIN, project_device_id(project_id))})
            if device is not None:
                registry.async_remove_device(device.id)
            if (subentry_id := project_subentries(self.entry).get(project_id)) is not None:
                self.hass.config_entries.async_remove_subentry(self.entry, subentry_id)
