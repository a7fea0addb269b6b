"""The desktop entities' base: on the project's device, following the desktops' poll."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..core.desktops_client import Desktop, DesktopState
from ..features import PlatformSetup
from ..projects.entity import ProjectEntity
from ..projects.store import Projects
from ..runtime import MakerhubConfigEntry
from .manager import HubDesktops


class DesktopEntity(ProjectEntity):
    """An entity of a project's desktop; unavailable while the service is not set up or
    its last poll failed."""

    def __init__(
        self, desktops: HubDesktops, projects: Projects, project_id: str, key: str
    ) -> None:
        """Attach to the project's device."""
        super().__init__(projects, project_id, key)
        self.desktops = desktops

    @property
    def desktop(self) -> Desktop | None:
        """Return the desktop as last seen (None: the service never started it)."""
        return self.desktops.desktop(self.project_id)

    @property
    def desktop_state(self) -> DesktopState:
        """Return the desktop's state."""
        return self.desktops.state(self.project_id)

    @property
    def available(self) -> bool:
        """Return whether the project exists and the service answers."""
        return super().available and self.desktops.available

    async def async_added_to_hass(self) -> None:
        """Follow the projects and the desktops' poll."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.desktops.coordinator.async_add_listener(self.async_write_ha_state)
        )


type DesktopEntityBuilder = Callable[[HubDesktops, Projects, str], Iterable[Entity]]


def desktop_platform(platform: Platform, build: DesktopEntityBuilder) -> PlatformSetup:
    """Return a desktop platform module's ``async_setup_entry``: every project, now and
    later, gets the entities ``build`` makes with the hub's desktops."""

    async def async_setup_entry(
        hass: HomeAssistant,
        entry: MakerhubConfigEntry,
        async_add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        desktops = entry.runtime_data.desktops
        entry.runtime_data.project_devices.register(
            platform,
            async_add_entities,
            lambda projects, project_id: build(desktops, projects, project_id),
        )

    return async_setup_entry
