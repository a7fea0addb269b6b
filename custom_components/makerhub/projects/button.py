"""Project buttons: sync a project with Todoist now."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity
from homeassistant.const import Platform
from homeassistant.exceptions import HomeAssistantError

from ..const import DOMAIN
from ..core.todoist import TodoistError
from ..data import makerhub_data
from .entity import ProjectEntity, project_platform
from .store import Projects
from .todoist import TodoistSyncError


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
            result = await makerhub_data(self.hass).todoist.async_sync(self.project_id)
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


async_setup_entry = project_platform(
    Platform.BUTTON, lambda projects, project_id: [TodoistSyncButton(projects, project_id)]
)
