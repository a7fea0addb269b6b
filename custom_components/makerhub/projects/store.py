"""Projects in Home Assistant: the registry, its storage and each person's active project.

The model and its rules are the pure core (``core/projects.py``). Projects belong to the
integration, not to the hub entry: they are loaded once (``async_setup``) and kept in
``.storage/makerhub.projects``. Owners are Home Assistant users; a non-admin may change
only their own projects (:func:`may_change`). The REST and WebSocket API (``api.py``),
the actions (``services.py``) and the wizard change them through :class:`Projects`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from homeassistant.auth.models import User
from homeassistant.components import mqtt
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.storage import Store

from ..const import DOMAIN, EVENT_PROJECT_SWITCHED
from ..core.projects import (
    Project,
    ProjectNotFoundError,
    ProjectRegistry,
    ProjectStatus,
    ProjectValidationError,
)
from ..core.protocol import DEFAULT_PREFIX

STORAGE_KEY: Final = "makerhub.projects"
STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 1.0
MAX_BODY: Final = 64 * 1024


NO_PROJECT: Final = "none"


class Projects:
    """The registry and its storage; every change is saved (debounced)."""

    def __init__(
        self,
        hass: HomeAssistant,
        registry: ProjectRegistry,
        active: dict[str, str] | None = None,
    ) -> None:
        """Wrap a loaded registry and the people's active projects."""
        self.hass = hass
        self.registry = registry
        self.active: dict[str, str] = dict(active or {})
        """Person entity id → the id of the project they work on now."""
        self._prefix = DEFAULT_PREFIX
        """The loaded hub's topic prefix, for the people's project topics."""
        self._store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)
        self._listeners: list[Callable[[], None]] = []

    @classmethod
    async def async_load(cls, hass: HomeAssistant) -> Projects:
        """Load the stored projects."""
        store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)
        data = await store.async_load()
        return cls(hass, ProjectRegistry.from_json(data), (data or {}).get("active"))

    def _data(self) -> dict[str, Any]:
        return {**self.registry.to_json(), "active": dict(self.active)}

    def saved[T](self, result: T) -> T:
        """Schedule a save after a change, tell the listeners; return ``result``."""
        self._store.async_delay_save(self._data, SAVE_DELAY)
        self.notify()
        return result

    @callback
    def notify(self) -> None:
        """Tell the listeners something about the projects changed that is not stored
        with them (a sync's status, a new month for the monthly totals)."""
        for listener in list(self._listeners):
            listener()

    @callback
    def publish_under(self, prefix: str) -> CALLBACK_TYPE:
        """Publish people's project topics under the loaded hub's topic ``prefix`` (the
        hub's runtime calls it); return the undo (the default prefix again)."""
        self._prefix = prefix

        @callback
        def undo() -> None:
            self._prefix = DEFAULT_PREFIX

        return undo

    @callback
    def add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` after every change; return the undo."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def choices(self, person: str) -> list[Project]:
        """Return the projects a person may make active: their user's, not archived."""
        state = self.hass.states.get(person)
        user_id = None if state is None else state.attributes.get("user_id")
        if user_id is None:
            return []
        return [
            p for p in self.registry.find(owner=user_id) if p.status is not ProjectStatus.ARCHIVED
        ]

    def active_project(self, person: str) -> Project | None:
        """Return the project a person works on now, if any."""
        project_id = self.active.get(person)
        if project_id is None:
            return None
        try:
            return self.registry.get(project_id)
        except ProjectNotFoundError:
            return None

    @callback
    def set_active(self, person: str, project_id: str | None) -> None:
        """Switch a person's active project; fire the event and publish the retained topic.

        Raise ProjectValidationError when the project is not one of the person's choices.
        """
        if project_id is not None and project_id not in {p.id for p in self.choices(person)}:
            raise ProjectValidationError(
                {"project": f"not an active or paused project of {person}'s user"}
            )
        before = self.active_project(person)
        if project_id is None:
            self.active.pop(person, None)
        else:
            self.active[person] = project_id
        after = self.active_project(person)
        if (before and before.id) == (after and after.id):
            return
        self.hass.bus.async_fire(
            EVENT_PROJECT_SWITCHED,
            {
                "person": person,
                "from": None if before is None else before.slug,
                "to": None if after is None else after.slug,
                "to_name": None if after is None else after.name,
            },
        )
        if mqtt.is_connected(self.hass):
            topic = f"{self._prefix}/space/people/{person.removeprefix('person.')}/project"
            self.hass.async_create_background_task(
                mqtt.async_publish(self.hass, topic, "" if after is None else after.slug, 1, True),
                f"makerhub publish {topic}",
            )
        self.saved(None)


def may_change(user: User, project: Project) -> bool:
    """Return whether a user may change a project: its owner, or an admin."""
    return user.is_admin or project.owner == user.id


# -- REST API ---------------------------------------------------------------------------


# -- service actions --------------------------------------------------------------------


async def service_caller(call: ServiceCall) -> User | None:
    """Return the user who called the action (None: an automation or a script)."""
    if call.context.user_id is None:
        return None  # automations and scripts act as the system
    return await call.hass.auth.async_get_user(call.context.user_id)


def lookup_project(projects: Projects, ref: str) -> Project:
    """Return the project ``ref`` (id or slug) names; refuse an unknown one."""
    try:
        return projects.registry.lookup(ref)
    except ProjectNotFoundError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_project",
            translation_placeholders={"project": ref},
        ) from err


async def changeable_project(
    call: ServiceCall, projects: Projects, ref: str, refusal: str = "not_your_project"
) -> Project:
    """Return the project ``ref`` (id or slug) names if the caller may change it (its
    owner, an admin, or the system); refuse it otherwise with the ``refusal`` key."""
    project = lookup_project(projects, ref)
    user = await service_caller(call)
    if user is not None and not may_change(user, project):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=refusal,
            translation_placeholders={"project": project.name},
        )
    return project


# -- WebSocket commands (the frontend's view of the same API) ---------------------------
