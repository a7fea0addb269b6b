"""To-do lists: each project's steps, editable from Home Assistant and the companion app."""

from __future__ import annotations

from homeassistant.components.todo import TodoItem, TodoListEntity
from homeassistant.components.todo.const import TodoItemStatus, TodoListEntityFeature
from homeassistant.const import Platform
from homeassistant.exceptions import ServiceValidationError

from ..const import DOMAIN
from ..core.projects import ProjectNotFoundError, ProjectValidationError
from .entity import ProjectEntity, project_platform
from .store import Projects, may_change


class ProjectStepsTodoList(ProjectEntity, TodoListEntity):
    """A project's steps as a to-do list (done steps are completed items)."""

    _attr_translation_key = "steps"
    _attr_supported_features = (
        TodoListEntityFeature.CREATE_TODO_ITEM
        | TodoListEntityFeature.UPDATE_TODO_ITEM
        | TodoListEntityFeature.DELETE_TODO_ITEM
        | TodoListEntityFeature.MOVE_TODO_ITEM
    )

    def __init__(self, projects: Projects, project_id: str) -> None:
        """Name the list after the project."""
        super().__init__(projects, project_id, "steps")

    @property
    def todo_items(self) -> list[TodoItem] | None:
        """Return the steps in order."""
        if (project := self.project) is None:
            return None
        return [
            TodoItem(
                summary=step.text,
                uid=step.id,
                status=TodoItemStatus.COMPLETED if step.done else TodoItemStatus.NEEDS_ACTION,
            )
            for step in project.steps
        ]

    async def _change(self, change: str, *args: object, **kwargs: object) -> None:
        """Run a registry change on this project for the calling user (its owner or an
        admin, as in the API); refuse bad input with the field errors."""
        user_id = None if self._context is None else self._context.user_id
        user = None if user_id is None else await self.hass.auth.async_get_user(user_id)
        project = self.project
        if user is not None and project is not None and not may_change(user, project):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="not_your_project",
                translation_placeholders={"project": project.name},
            )
        try:
            result = getattr(self.projects.registry, change)(self.project_id, *args, **kwargs)
        except ProjectValidationError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_project_input",
                translation_placeholders={"error": str(err)},
            ) from err
        except ProjectNotFoundError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_step",
                translation_placeholders={"step": str(err.args[0])},
            ) from err
        self.projects.saved(result)

    async def async_create_todo_item(self, item: TodoItem) -> None:
        """Add a step at the end."""
        await self._change("add_step", item.summary, done=item.status == TodoItemStatus.COMPLETED)

    async def async_update_todo_item(self, item: TodoItem) -> None:
        """Rename a step and/or set its done state."""
        done = None if item.status is None else item.status == TodoItemStatus.COMPLETED
        await self._change("edit_step", item.uid, item.summary, done)

    async def async_delete_todo_items(self, uids: list[str]) -> None:
        """Remove steps (all or none: unknown ids change nothing)."""
        project = self.project
        known = set() if project is None else {step.id for step in project.steps}
        if unknown := [uid for uid in uids if uid not in known]:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_step",
                translation_placeholders={"step": ", ".join(unknown)},
            )
        for uid in uids:
            await self._change("remove_step", uid)

    async def async_move_todo_item(self, uid: str, previous_uid: str | None = None) -> None:
        """Move a step right after ``previous_uid`` (first when None)."""
        position = 0
        if previous_uid is not None:
            project = self.project
            order = [] if project is None else [s.id for s in project.steps if s.id != uid]
            if previous_uid not in order:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="unknown_step",
                    translation_placeholders={"step": previous_uid},
                )
            position = order.index(previous_uid) + 1
        await self._change("move_step", uid, position)


async_setup_entry = project_platform(
    Platform.TODO, lambda projects, project_id: [ProjectStepsTodoList(projects, project_id)]
)
