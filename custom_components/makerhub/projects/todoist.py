"""Todoist sync of projects in Home Assistant: when, with whose token, and what it changed.

The merge is the pure core (``core/todoist_sync.py``). Here a project linked to a Todoist
project (``todoist_project_id``) syncs with its owner's token: every few minutes, a few
seconds after a local change of its steps, and on demand (a button). The snapshot of each
project's last sync is kept in ``.storage/makerhub.todoist``; a failed sync keeps it, so
the next one finds every change not yet carried over. A refused token raises a repair
issue for its person; a rate limit waits until Todoist says.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
import logging
from typing import Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..core.projects import Project, ProjectNotFoundError, ProjectValidationError, new_id
from ..core.todoist import TodoistAuthError, TodoistClient, TodoistError
from ..core.todoist_sync import (
    CreateStep,
    DeleteStep,
    Item,
    Pair,
    SyncResult,
    UpdateStep,
    state_from_json,
    state_to_json,
    sync,
)
from ..presence.manager import person_name
from .accounts import Accounts, Service, service_url
from .store import Projects

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = "makerhub.todoist"
STORAGE_VERSION: Final = 1
CHANGE_DELAY: Final = 5.0
"""Seconds after a local change of steps before the project syncs (changes coalesce)."""
ISSUE_AUTH: Final = "todoist_token_refused"


class TodoistSyncError(Exception):
    """A sync that cannot run (not linked, no token): the message says what to do."""


@dataclass(slots=True)
class SyncStatus:
    """How a project's last sync went."""

    last_sync: datetime | None = None
    error: str | None = None
    retry_at: datetime | None = None


class TodoistSync:
    """Syncs every linked project's steps with its Todoist project."""

    def __init__(
        self,
        hass: HomeAssistant,
        projects: Projects,
        accounts: Accounts,
        states: dict[str, dict[str, Pair]],
    ) -> None:
        """Wrap the stored snapshots."""
        self.hass = hass
        self.projects = projects
        self.accounts = accounts
        self._states = states
        self._store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)
        self._status: dict[str, SyncStatus] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._seen: dict[str, datetime] = {}
        """Per linked project, the change time the last sync (or scheduling) saw."""
        self._pending: dict[str, CALLBACK_TYPE] = {}
        self._unsubscribe: list[CALLBACK_TYPE] = []

    @classmethod
    async def async_load(
        cls, hass: HomeAssistant, projects: Projects, accounts: Accounts
    ) -> TodoistSync:
        """Load the stored snapshots."""
        store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)
        data = await store.async_load() or {}
        states = {
            project_id: state_from_json(state)
            for project_id, state in data.get("projects", {}).items()
        }
        return cls(hass, projects, accounts, states)

    # -- lifecycle --------------------------------------------------------------------

    @callback
    def async_start(self, interval: timedelta) -> None:
        """Sync every linked project every ``interval`` and soon after local changes."""
        self.async_stop()
        self._seen = {p.id: p.updated for p in self._linked()}
        self._unsubscribe = [
            async_track_time_interval(
                self.hass, self._tick, interval, name="makerhub todoist sync"
            ),
            self.projects.add_listener(self._projects_changed),
        ]

    @callback
    def async_stop(self) -> None:
        """Stop the timers."""
        while self._unsubscribe:
            self._unsubscribe.pop()()
        while self._pending:
            self._pending.popitem()[1]()

    # -- status -----------------------------------------------------------------------

    def status_attributes(self, project_id: str) -> dict[str, Any]:
        """Return how the project's last sync went, for its status sensor."""
        status = self._status.get(project_id)
        if status is None:
            return {}
        return {"todoist_last_sync": status.last_sync, "todoist_error": status.error}

    def person_of(self, project: Project) -> str | None:
        """Return the person whose user owns a project."""
        for state in self.hass.states.async_all("person"):
            if state.attributes.get("user_id") == project.owner:
                return state.entity_id
        return None

    def client_for(self, person: str) -> TodoistClient:
        """Return a Todoist client with a person's token; raise TodoistSyncError."""
        token = self.accounts.token(person, Service.TODOIST)
        if token is None:
            raise TodoistSyncError(
                f"{person_name(self.hass, person)} has not connected a Todoist account "
                "(Makerhub → Configure → Accounts)"
            )
        return TodoistClient(
            async_get_clientsession(self.hass), token, service_url(Service.TODOIST)
        )

    # -- syncing ----------------------------------------------------------------------

    async def async_sync(self, project_id: str) -> SyncResult:
        """Sync one project now; raise TodoistSyncError when it cannot, TodoistError when
        Todoist refuses or cannot be reached."""
        project = self.projects.registry.get(project_id)
        if project.todoist_project_id is None:
            raise TodoistSyncError(f"{project.name} is not linked to a Todoist project")
        person = self.person_of(project)
        if person is None:
            raise TodoistSyncError(f"the owner of {project.name} is not a person in Home Assistant")
        client = self.client_for(person)
        lock = self._locks.setdefault(project_id, asyncio.Lock())
        async with lock:
            return await self._async_sync(project, person, client)

    async def _async_sync(self, project: Project, person: str, client: TodoistClient) -> SyncResult:
        started = dt_util.utcnow()
        status = self._status.setdefault(project.id, SyncStatus())
        local = {s.id: Item(s.text, s.done, s.updated) for s in project.steps}
        assert project.todoist_project_id is not None
        try:
            result = await sync(
                client, project.todoist_project_id, local, self._states.get(project.id, {}), new_id
            )
        except TodoistAuthError as err:
            status.error = str(err)
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                f"{ISSUE_AUTH}_{person}",
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=ISSUE_AUTH,
                translation_placeholders={"person": person_name(self.hass, person)},
            )
            self.projects.notify()
            raise
        ir.async_delete_issue(self.hass, DOMAIN, f"{ISSUE_AUTH}_{person}")
        changed = self._apply(project.id, result, started)
        self._states[project.id] = result.state
        self._store.async_delay_save(self._data, 1.0)
        status.last_sync = dt_util.utcnow()
        status.error = "; ".join(result.errors) or None
        status.retry_at = result.retry_at
        if result.errors:
            _LOGGER.warning("Todoist sync of %s: %s", project.name, status.error)
        try:
            self._seen[project.id] = self.projects.registry.get(project.id).updated
        except ProjectNotFoundError:
            self._seen.pop(project.id, None)
        if changed:
            self.projects.saved(None)
        else:
            self.projects.notify()
        return result

    def _apply(self, project_id: str, result: SyncResult, started: datetime) -> bool:
        """Apply the local side of a sync; skip steps changed while it ran (the next sync
        carries those over). Return whether anything changed."""
        registry = self.projects.registry
        changed = False
        for op in result.local_ops:
            try:
                project = registry.get(project_id)
                current = next((s for s in project.steps if s.id == op.step_id), None)
                if current is not None and current.updated > started:
                    continue
                if isinstance(op, CreateStep):
                    registry.add_step(project_id, op.text, step_id=op.step_id, done=op.done)
                elif isinstance(op, UpdateStep):
                    registry.edit_step(project_id, op.step_id, op.text, op.done)
                elif isinstance(op, DeleteStep) and current is not None:
                    registry.remove_step(project_id, op.step_id)
                changed = True
            except ProjectNotFoundError:
                continue  # deleted meanwhile
            except ProjectValidationError as err:
                result.errors.append(f"step {op.step_id}: {err}")
                if isinstance(op, CreateStep):
                    # Unpaired again: else the next sync would take the missing step for
                    # a local delete and delete the task.
                    result.state.pop(op.step_id, None)
        return changed

    def _data(self) -> dict[str, Any]:
        return {
            "projects": {
                project_id: state_to_json(state) for project_id, state in self._states.items()
            }
        }

    def _linked(self) -> list[Project]:
        return [p for p in self.projects.registry.find() if p.todoist_project_id is not None]

    async def _async_sync_quietly(self, project_id: str) -> None:
        """Sync from a timer: failures are logged and shown, never raised."""
        status = self._status.get(project_id)
        if status is not None and status.retry_at and status.retry_at > dt_util.utcnow():
            return
        try:
            await self.async_sync(project_id)
        except TodoistSyncError as err:
            self._status.setdefault(project_id, SyncStatus()).error = str(err)
            self.projects.notify()
        except ProjectNotFoundError:
            pass
        except TodoistError as err:
            _LOGGER.warning("Todoist sync of project %s failed: %s", project_id, err)

    async def _tick(self, _now: datetime) -> None:
        for project in self._linked():
            await self._async_sync_quietly(project.id)

    @callback
    def _projects_changed(self) -> None:
        """Schedule a sync of each linked project whose steps changed here."""
        linked = {p.id: p for p in self._linked()}
        for project_id in set(self._states) - set(linked):
            del self._states[project_id]  # unlinked or deleted: forget the snapshot
            self._store.async_delay_save(self._data, 1.0)
        for project_id, project in linked.items():
            if self._seen.get(project_id) == project.updated or project_id in self._pending:
                continue
            self._seen[project_id] = project.updated

            @callback
            def _run(_now: datetime, project_id: str = project_id) -> None:
                self._pending.pop(project_id, None)
                self.hass.async_create_background_task(
                    self._async_sync_quietly(project_id), f"makerhub todoist sync {project_id}"
                )

            self._pending[project_id] = async_call_later(self.hass, CHANGE_DELAY, _run)
