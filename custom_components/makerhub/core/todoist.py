"""A small asynchronous client for Todoist's unified API v1, for syncing project steps.

Pure Python (no Home Assistant imports): it only needs an ``aiohttp`` session and a
personal API token. It covers what the step sync needs and nothing more: validating the
token, creating a project, listing open and completed tasks, reading, adding, renaming,
closing, reopening and deleting tasks.

Todoist API v1 (``https://api.todoist.com/api/v1``) replaced REST v2 and Sync v9. The shapes
used here were checked against Todoist's own SDKs for v1 (the Python and TypeScript
clients and their generated type docs), not against a live server: ``GET user``
(``full_name``), ``POST projects``, ``GET tasks?project_id=…&limit=…&cursor=…`` answering
``{"results": [...], "next_cursor": …}``, ``GET tasks/completed/by_completion_date`` with
``since``/``until`` (ISO times, a window of "up to 3 months"), ``project_id`` (sent by the
TypeScript SDK; the Python one does not offer it), ``limit`` (at most 200) and ``cursor``,
answering ``{"items": [...], "next_cursor": …}`` with task objects, ``GET/POST/DELETE
tasks/{id}``, ``POST tasks/{id}/close`` and ``/reopen``, and the task fields ``id``,
``content``, ``checked``, ``is_deleted``, ``child_order``, ``added_at``, ``updated_at`` and
``completed_at``. Errors come as JSON ``{"error": …, "error_tag": …, "error_code": …,
"http_code": …, "error_extra": …}``.

Not confirmed, and so handled whichever way Todoist behaves:

- whether ``GET tasks/{id}`` answers for a completed task. Both SDKs describe it as
  returning "a single active (non-completed) task" (and in 2017 Doist said REST v8 did not
  return completed tasks), so :meth:`TodoistClient.task` returning None means "completed or
  deleted", and the sync looks the task up in :meth:`TodoistClient.completed_tasks`;
- whether a deleted task answers 404 or a task with ``is_deleted: true`` (both handled);
- whether the completed listing includes deleted tasks, or needs a paid plan (a 403 would
  raise :class:`TodoistAuthError`), and whether its "3 months" are counted in days or
  months (windows are cut into :data:`COMPLETED_SPAN`, well inside either);
- where a 429 puts its wait (both a ``Retry-After`` header and ``error_extra.retry_after``
  are read).

Every failure is a :class:`TodoistError`; the subclasses tell the caller what to do:
re-authenticate (:class:`TodoistAuthError`), wait (:class:`TodoistRateLimitError`), retry
later (:class:`TodoistConnectionError`) or forget the task (:class:`TodoistNotFoundError`).
The token is sent only in the ``Authorization`` header and never appears in a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
import json
from typing import Any, Final

import aiohttp

API_URL: Final = "https://api.todoist.com/api/v1"
PAGE_SIZE: Final = 200
"""Tasks asked for per page (the API's maximum)."""
TIMEOUT: Final = 30.0
"""Seconds one request may take, connecting included."""
COMPLETED_SPAN: Final = timedelta(days=45)
"""The longest window one request for completed tasks covers (the API allows about 3 months)."""
MAX_CONTENT: Final = 500
"""The longest task content Todoist accepts."""
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_ERROR_TEXT: Final = 300


class TodoistError(Exception):
    """A Todoist request failed; the message carries the API's own error text."""

    def __init__(self, message: str, status: int | None = None) -> None:
        """Keep the HTTP status (None when no answer came)."""
        super().__init__(message)
        self.status = status


class TodoistAuthError(TodoistError):
    """The token is missing, wrong or revoked (HTTP 401 or 403)."""


class TodoistRateLimitError(TodoistError):
    """Too many requests (HTTP 429); ``retry_at`` (UTC) says when to try again, if known."""

    def __init__(self, message: str, retry_at: datetime | None) -> None:
        """Keep when the API said to come back."""
        super().__init__(message, 429)
        self.retry_at = retry_at


class TodoistConnectionError(TodoistError):
    """No usable answer: network failure, timeout or a server error (5xx). Retry later."""


class TodoistNotFoundError(TodoistError):
    """The task or project does not exist, or no longer does (HTTP 404)."""


@dataclass(frozen=True, slots=True)
class Task:
    """One Todoist task, reduced to what the step sync compares."""

    id: str
    content: str
    checked: bool
    updated: datetime
    """When the task last changed (UTC): ``updated_at``, else ``completed_at``/``added_at``."""
    order: int
    deleted: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Task:
        """Return the task of an API answer; raise :class:`TodoistError` when malformed."""
        try:
            updated = (
                _timestamp(data.get("updated_at"))
                or _timestamp(data.get("completed_at"))
                or _timestamp(data.get("added_at"))
                or EPOCH
            )
            return cls(
                id=str(data["id"]),
                content=str(data["content"]),
                checked=bool(data.get("checked", False)),
                updated=updated,
                order=int(data.get("child_order") or 0),
                deleted=bool(data.get("is_deleted", False)),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise TodoistError(f"unexpected task in Todoist's answer: {err!r}") from None


def _timestamp(value: Any) -> datetime | None:
    """Return an API timestamp as an aware UTC datetime (naive ones are taken as UTC)."""
    if not value:
        return None
    return _utc(datetime.fromisoformat(str(value)))


def _utc(when: datetime) -> datetime:
    """Return ``when`` in UTC (a naive datetime is taken as UTC)."""
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def _api_time(when: datetime, *, ceil: bool = False) -> str:
    """Return a UTC time as the API takes it (``2026-11-30T12:00:00Z``), to the second.

    ``ceil`` rounds a fraction of a second up (for the end of a window), else it is cut.
    """
    if ceil and when.microsecond:
        when += timedelta(seconds=1)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class TodoistClient:
    """Calls Todoist API v1 with one token; every method raises :class:`TodoistError`."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token: str,
        base_url: str = API_URL,
        *,
        timeout: float = TIMEOUT,
        page_size: int = PAGE_SIZE,
    ) -> None:
        """Use ``session`` (owned by the caller) and send ``token`` on every request."""
        self._session = session
        self._token = token
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._page_size = page_size

    def __repr__(self) -> str:
        """Name the server, never the token."""
        return f"TodoistClient({self._base_url!r})"

    async def user_name(self) -> str:
        """Return the token owner's name (or email): the way to check a token works."""
        data = await self._request("GET", "user")
        if not isinstance(data, Mapping):
            raise TodoistError("unexpected answer from Todoist to GET /user")
        return str(data.get("full_name") or data.get("email") or "")

    async def create_project(self, name: str) -> str:
        """Create a project and return its id."""
        data = await self._request("POST", "projects", json={"name": name})
        if not isinstance(data, Mapping) or "id" not in data:
            raise TodoistError("unexpected answer from Todoist to POST /projects")
        return str(data["id"])

    async def tasks(self, project_id: str) -> list[Task]:
        """Return the project's active (open) tasks in Todoist's order, every page of them."""
        params = {"project_id": project_id, "limit": str(self._page_size)}
        found = [Task.from_json(raw) for raw in await self._pages("tasks", params, "results")]
        return sorted(
            (task for task in found if not task.deleted and not task.checked),
            key=lambda task: task.order,
        )

    async def completed_tasks(
        self, project_id: str, since: datetime, until: datetime
    ) -> list[Task]:
        """Return the project's tasks completed between ``since`` and ``until`` (inclusive).

        Every page of ``GET tasks/completed/by_completion_date``, in windows of at most
        :data:`COMPLETED_SPAN` (the API refuses windows over about 3 months). Each task
        comes back checked, ``updated`` at its ``updated_at`` (else ``completed_at``); one
        the answer flags ``is_deleted`` keeps ``deleted=True``. Naive times are taken as UTC.
        """
        start, until = _utc(since), _utc(until)
        found: dict[str, Task] = {}
        while start <= until:
            end = min(start + COMPLETED_SPAN, until)
            params = {
                "since": _api_time(start),
                "until": _api_time(end, ceil=True),
                "project_id": project_id,
                "limit": str(self._page_size),
            }
            path = "tasks/completed/by_completion_date"
            for raw in await self._pages(path, params, "items"):
                task = _completed_task(raw, f"GET /{path}")
                found[task.id] = task
            if end == until:
                break
            start = end
        return list(found.values())

    async def task(self, task_id: str) -> Task | None:
        """Return one task, None when Todoist answers 404.

        A task Todoist still answers although deleted comes back with ``deleted=True``. A
        404 may also mean "completed": whether this endpoint answers completed tasks is not
        confirmed (see the module docstring).
        """
        try:
            data = await self._request("GET", f"tasks/{task_id}")
        except TodoistNotFoundError:
            return None
        return _task_of(data, f"GET /tasks/{task_id}")

    async def add_task(self, project_id: str, content: str) -> Task:
        """Create an open task at the end of the project."""
        data = await self._request(
            "POST", "tasks", json={"content": content, "project_id": project_id}
        )
        return _task_of(data, "POST /tasks")

    async def rename_task(self, task_id: str, content: str) -> Task | None:
        """Change a task's content; None when the task no longer exists."""
        try:
            data = await self._request("POST", f"tasks/{task_id}", json={"content": content})
        except TodoistNotFoundError:
            return None
        return _task_of(data, f"POST /tasks/{task_id}")

    async def close_task(self, task_id: str) -> None:
        """Complete a task (raises :class:`TodoistNotFoundError` when it is gone)."""
        await self._request("POST", f"tasks/{task_id}/close")

    async def reopen_task(self, task_id: str) -> None:
        """Uncomplete a task (raises :class:`TodoistNotFoundError` when it is gone)."""
        await self._request("POST", f"tasks/{task_id}/reopen")

    async def delete_task(self, task_id: str) -> None:
        """Delete a task; one that is already gone counts as deleted."""
        try:
            await self._request("DELETE", f"tasks/{task_id}")
        except TodoistNotFoundError:
            return

    async def _pages(self, path: str, params: Mapping[str, str], key: str) -> list[Any]:
        """Return the items (under ``key``) of every page of a listing, following cursors."""
        items: list[Any] = []
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            query = dict(params)
            if cursor is not None:
                query["cursor"] = cursor
            data = await self._request("GET", path, params=query)
            if not isinstance(data, Mapping) or not isinstance(data.get(key), list):
                raise TodoistError(f"unexpected answer from Todoist to GET /{path}")
            items.extend(data[key])
            raw_cursor = data.get("next_cursor")
            if not raw_cursor:
                return items
            cursor = str(raw_cursor)
            if cursor in seen:
                raise TodoistError(f"Todoist repeated a page cursor of GET /{path}")
            seen.add(cursor)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send one request; return the decoded JSON answer (None when empty)."""
        what = f"{method} /{path}"
        try:
            async with self._session.request(
                method,
                f"{self._base_url}/{path}",
                params=params,
                json=json,
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            ) as response:
                status = response.status
                body = await response.text()
                retry_after = response.headers.get("Retry-After")
        except TimeoutError:
            raise TodoistConnectionError(
                f"Todoist did not answer {what} within {self._timeout:g} s"
            ) from None
        except aiohttp.ClientError as err:
            message = self._redact(str(err) or type(err).__name__)
            raise TodoistConnectionError(f"cannot reach Todoist for {what}: {message}") from None
        if 200 <= status < 300:
            if not body.strip():
                return None
            try:
                return _decode(body)
            except ValueError:
                raise TodoistError(f"Todoist answered {what} with invalid JSON", status) from None
        raise self._error(what, status, body, retry_after)

    def _error(self, what: str, status: int, body: str, retry_after: str | None) -> TodoistError:
        """Return the exception for an error answer."""
        detail, extra = _error_detail(body)
        message = f"Todoist refused {what} (HTTP {status}): {self._redact(detail)}"
        if status in (401, 403):
            return TodoistAuthError(message, status)
        if status == 404:
            return TodoistNotFoundError(message, status)
        if status == 429:
            return TodoistRateLimitError(message, _retry_at(retry_after, extra))
        if status >= 500:
            return TodoistConnectionError(message, status)
        return TodoistError(message, status)

    def _redact(self, text: str) -> str:
        """Return ``text`` with the token (should it ever be echoed) masked."""
        return text.replace(self._token, "***") if self._token else text


def _decode(body: str) -> Any:
    """Return the JSON value of a body (a separate function: ``json`` is a parameter name)."""
    return json.loads(body)


def _task_of(data: Any, what: str) -> Task:
    """Return the task of an answer that must be one."""
    if not isinstance(data, Mapping):
        raise TodoistError(f"unexpected answer from Todoist to {what}")
    return Task.from_json(data)


def _completed_task(raw: Any, what: str) -> Task:
    """Return a task of the completed listing, checked whatever its flag says.

    Should an item carry ``task_id`` (Sync v9's completed items did, their ``id`` being the
    completion's), that is the task's id.
    """
    if isinstance(raw, Mapping) and raw.get("task_id") is not None:
        raw = {**raw, "id": raw["task_id"]}
    task = _task_of(raw, what)
    return task if task.checked else replace(task, checked=True)


def _error_detail(body: str) -> tuple[str, Mapping[str, Any]]:
    """Return the error text of an error answer and its ``error_extra`` (JSON or plain)."""
    try:
        data = _decode(body)
    except ValueError:
        data = None
    if isinstance(data, Mapping):
        extra = data.get("error_extra")
        text = data.get("error") or data.get("error_tag") or body
        if isinstance(text, str) and text:
            return text[:_MAX_ERROR_TEXT], extra if isinstance(extra, Mapping) else {}
    return (body.strip()[:_MAX_ERROR_TEXT] or "no details"), {}


def _retry_at(header: str | None, extra: Mapping[str, Any]) -> datetime | None:
    """Return when a 429 says to retry: ``Retry-After`` (seconds or a date) or the body's."""
    now = datetime.now(UTC)
    for value in (header, extra.get("retry_after")):
        if value is None or value == "":
            continue
        try:
            return now + timedelta(seconds=max(0.0, float(value)))
        except (TypeError, ValueError):
            pass
        try:
            when = parsedate_to_datetime(str(value))
        except (TypeError, ValueError):
            continue
        return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    return None
