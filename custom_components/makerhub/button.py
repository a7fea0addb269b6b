"""Buttons: restart a unit; sync a project with Todoist."""

from __future__ import annotations

from functools import partial

from homeassistant.components.button import ButtonDeviceClass, ButtonEntity
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .broker_access import BrokerAccess
from .const import DOMAIN
from .core.firmware_client import FirmwareError
from .core.todoist import TodoistError
from .core.unit import UnitRuntime
from .entity import MakerhubUnitEntity
from .firmware import HubFirmware, RepositoryEntity, repository_entities
from .hub import MakerhubHub
from .project_devices import ProjectEntity
from .project_sync import DATA_TODOIST, TodoistSyncError
from .projects import Projects
from .runtime import MakerhubConfigEntry

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create a restart button for every unit, now and as units are adopted; a Todoist
    sync button for every project."""
    runtime = entry.runtime_data
    runtime.hub.register_platform(
        Platform.BUTTON, async_add_entities, partial(build_buttons, runtime.broker_access)
    )
    repository_entities(
        entry,
        entry.runtime_data.firmware,
        lambda firmware, subentry: [RepositorySyncButton(firmware, subentry)],
        async_add_entities,
    )
    entry.runtime_data.project_devices.register(
        Platform.BUTTON,
        async_add_entities,
        lambda projects, project_id: [TodoistSyncButton(projects, project_id)],
    )


def build_buttons(
    broker_access: BrokerAccess, hub: MakerhubHub, unit: UnitRuntime
) -> list[MakerhubUnitEntity]:
    """Return a unit's buttons."""
    return [RestartButton(hub, unit), RotateBrokerPasswordButton(hub, unit, broker_access)]


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


class RotateBrokerPasswordButton(MakerhubUnitEntity, ButtonEntity):
    """Give the unit a new broker password (it needs its new ``env.json`` to connect)."""

    _attr_entity_category = EntityCategory.CONFIG
    _attr_translation_key = "rotate_broker_password"
    _attr_entity_registry_enabled_default = False

    def __init__(self, hub: MakerhubHub, unit: UnitRuntime, broker_access: BrokerAccess) -> None:
        """Key the button as the unit's password rotation."""
        super().__init__(hub, unit, ("sys", "rotate_password"))
        self.broker_access = broker_access

    @property
    def available(self) -> bool:
        """Return True: a password can be rotated while the unit is offline too."""
        return True

    async def async_press(self) -> None:
        """Rotate the password and tell the broker."""
        await self.broker_access.async_rotate(self.unit.uid)


class TodoistSyncButton(ProjectEntity, ButtonEntity):
    """Sync a project's steps with its Todoist project now (available while linked)."""

    _attr_translation_key = "todoist_sync"

    def __init__(self, projects: Projects, project_id: str) -> None:
        """Attach to the project's device."""
        super().__init__(projects, project_id, "todoist-sync")

    @property
    def available(self) -> bool:
        """Return whether the project is linked to a Todoist project."""
        project = self.project
        return project is not None and project.todoist_project_id is not None

    async def async_press(self) -> None:
        """Sync now; say why when it cannot."""
        try:
            result = await self.hass.data[DATA_TODOIST].async_sync(self.project_id)
        except (TodoistSyncError, TodoistError) as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="todoist_sync_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        if result.errors:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="todoist_sync_failed",
                translation_placeholders={"error": "; ".join(result.errors)},
            )


class RepositorySyncButton(RepositoryEntity, ButtonEntity):
    """Fetch the repository's branches and tags now."""

    _attr_translation_key = "repository_sync"

    def __init__(self, firmware: HubFirmware, subentry: ConfigSubentry) -> None:
        """Attach to the repository's device."""
        super().__init__(firmware, subentry, "sync")

    @property
    def available(self) -> bool:
        """Return True: a sync may be asked for whatever the last poll said."""
        return True

    async def async_press(self) -> None:
        """Sync; say why when it fails."""
        try:
            repo = await self.firmware.async_sync(self.repo_id)
        except FirmwareError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="firmware_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        if repo.last_error:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="firmware_failed",
                translation_placeholders={"error": repo.last_error},
            )
