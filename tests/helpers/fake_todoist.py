"""A fake Todoist API v1 on 127.0.0.1, for testing the client and the step sync for real.

It serves exactly what :mod:`custom_components.makerhub.core.todoist` calls, over HTTP on
a free port: ``GET /user``, ``POST /projects``, ``GET /tasks`` (by project, paginated with
``limit``/``cursor``/``next_cursor``), ``GET /tasks/completed/by_completion_date``
(``since``/``until`` at most :attr:`FakeTodoist.completed_window` apart, by project,
paginated the same way, answering ``items``), ``GET``/``POST``/``DELETE /tasks/{id}`` and
``POST /tasks/{id}/close``/``reopen``, with Todoist's error bodies. Completed tasks leave
the list; they answer ``GET /tasks/{id}`` (``checked: true``) unless
:attr:`FakeTodoist.get_returns_completed` is False, then 404 as Todoist's SDKs document.
Deleted tasks answer 404 and are not among completed ones. Every change moves the task's
``updated_at`` forward.

Tests act "in the Todoist app" through :meth:`FakeTodoist.add_task`, :meth:`rename`,
:meth:`close`, :meth:`reopen` and :meth:`delete` (each at a chosen time), inject failures
(:meth:`fail`: a 503, a dropped connection or a slow answer for the Nth request, before or
after the change is made; :meth:`rate_limit`: 429 with ``Retry-After``), and read the
request log (:attr:`requests`, :meth:`changes`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import json
from typing import Any

from aiohttp import web

PREFIX = "/api/v1"
TOKEN = "fake-token-0123456789abcdef"
USER = "Ada Lovelace"

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class FakeTask:
    """One task as the fake stores it."""

    id: str
    project_id: str
    content: str
    child_order: int
    added_at: datetime
    updated_at: datetime
    checked: bool = False
    completed_at: datetime | None = None
    is_deleted: bool = False

    def to_json(self) -> dict[str, Any]:
        """Return the task as Todoist API v1 shows it (the fields the client reads, and some)."""
        return {
            "id": self.id,
            "user_id": "1",
            "project_id": self.project_id,
            "section_id": None,
            "parent_id": None,
            "content": self.content,
            "description": "",
            "labels": [],
            "priority": 1,
            "checked": self.checked,
            "is_deleted": self.is_deleted,
            "is_collapsed": False,
            "child_order": self.child_order,
            "day_order": -1,
            "added_at": _stamp(self.added_at),
            "updated_at": _stamp(self.updated_at),
            "completed_at": _stamp(self.completed_at) if self.completed_at else None,
            "due": None,
            "deadline": None,
            "duration": None,
            "note_count": 0,
        }


@dataclass(frozen=True)
class LoggedRequest:
    """One request the fake received, and the status it answered (0: dropped)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class Fault:
    """What to do instead of (or after) serving one request."""

    status: int | None = 503
    """The error status to answer; None: no error (with ``delay``: a slow answer)."""
    drop: bool = False
    """Drop the connection without an answer."""
    after: bool = False
    """Make the change first, then fail (the answer is lost, the change is not)."""
    delay: float = 0.0
    """Seconds to wait before answering."""
    raw: tuple[int, str] | None = None
    """Answer this status and body instead (to test odd answers)."""

    @property
    def failing(self) -> bool:
        """Whether the request fails (rather than only being slow)."""
        return self.drop or self.status is not None or self.raw is not None


@dataclass
class _Limit:
    start: int
    remaining: int
    retry_after: int | None
    in_body: bool


@dataclass
class FakeTodoist:
    """A fake Todoist API v1 server; :meth:`start` it, :meth:`stop` it."""

    page_size: int = 50
    """The most tasks one page holds, whatever ``limit`` asks."""
    tokens: dict[str, str] = field(default_factory=lambda: {TOKEN: USER})
    """Valid token → the user's full name."""
    forbidden: set[str] = field(default_factory=set)
    """Tokens answered with 403."""
    get_returns_completed: bool = True
    """Whether ``GET /tasks/{id}`` answers a completed task (False: 404, as for deleted ones)."""
    completed_window: timedelta = timedelta(days=90)
    """The longest ``since``…``until`` the completed listing accepts (about 3 months)."""
    projects: dict[str, str] = field(default_factory=dict)
    tasks: dict[str, FakeTask] = field(default_factory=dict)
    requests: list[LoggedRequest] = field(default_factory=list)
    _faults: dict[int, Fault] = field(default_factory=dict)
    _limit: _Limit | None = None
    _ids: int = 0
    _last: datetime = field(default_factory=lambda: datetime.now(UTC))
    _runner: web.AppRunner | None = None
    url: str = ""
    """The base URL once started (``http://127.0.0.1:PORT/api/v1``)."""

    async def start(self) -> str:
        """Serve on a free port of 127.0.0.1; return the base URL (``…/api/v1``)."""
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get(f"{PREFIX}/user", self._user)
        app.router.add_post(f"{PREFIX}/projects", self._add_project)
        app.router.add_get(f"{PREFIX}/tasks", self._list)
        app.router.add_post(f"{PREFIX}/tasks", self._add)
        app.router.add_get(f"{PREFIX}/tasks/completed/by_completion_date", self._completed)
        app.router.add_get(f"{PREFIX}/tasks/{{id}}", self._get)
        app.router.add_post(f"{PREFIX}/tasks/{{id}}", self._update)
        app.router.add_delete(f"{PREFIX}/tasks/{{id}}", self._delete)
        app.router.add_post(f"{PREFIX}/tasks/{{id}}/close", self._close)
        app.router.add_post(f"{PREFIX}/tasks/{{id}}/reopen", self._reopen)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}{PREFIX}"
        return self.url

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- failure injection ---------------------------------------------------------------

    def fail(
        self,
        nth: int = 1,
        *,
        status: int = 503,
        drop: bool = False,
        after: bool = False,
        times: int = 1,
    ) -> None:
        """Fail the ``nth`` request from now (and the ``times - 1`` after it) with ``status``.

        ``drop=True`` drops the connection instead. ``after=True`` makes the change first, so
        only the answer is lost. aiohttp retries an idempotent request (GET, DELETE) once on a
        dropped keep-alive connection: drop those with ``times=2``.
        """
        first = len(self.requests) + nth
        for number in range(first, first + times):
            self._faults[number] = Fault(status, drop, after)

    def reply(self, nth: int, status: int, body: str) -> None:
        """Answer the ``nth`` request from now with ``status`` and ``body`` (JSON or not)."""
        self._faults[len(self.requests) + nth] = Fault(None, raw=(status, body))

    def slow(self, nth: int = 1, seconds: float = 1.0) -> None:
        """Answer the ``nth`` request from now only after ``seconds``."""
        self._faults[len(self.requests) + nth] = Fault(None, delay=seconds)

    def rate_limit(
        self, count: int = 1, retry_after: int | None = 30, in_body: bool = False, nth: int = 1
    ) -> None:
        """Answer ``count`` requests from the ``nth`` one from now with 429.

        ``retry_after`` (seconds) goes in the ``Retry-After`` header, or with ``in_body`` in
        ``error_extra.retry_after``.
        """
        self._limit = _Limit(len(self.requests) + nth, count, retry_after, in_body)

    def changes(self) -> list[LoggedRequest]:
        """Return the logged requests that could change something (all but GET)."""
        return [r for r in self.requests if r.method != "GET"]

    # -- acting as the Todoist app -------------------------------------------------------

    def add_project(self, name: str) -> str:
        """Create a project; return its id."""
        project_id = self._new_id("p")
        self.projects[project_id] = name
        return project_id

    def add_task(
        self, project_id: str, content: str, *, at: datetime | None = None, checked: bool = False
    ) -> FakeTask:
        """Create a task at the end of the project, as the app would."""
        when = self._now(at)
        order = 1 + max(
            (t.child_order for t in self.tasks.values() if t.project_id == project_id), default=0
        )
        task = FakeTask(self._new_id("t"), project_id, content, order, when, when)
        self.tasks[task.id] = task
        if checked:
            self.close(task.id, at=when)
        return task

    def rename(self, task_id: str, content: str, *, at: datetime | None = None) -> None:
        """Change a task's content, as the app would."""
        task = self.tasks[task_id]
        task.content = content
        task.updated_at = self._now(at)

    def close(self, task_id: str, *, at: datetime | None = None) -> None:
        """Complete a task, as the app would."""
        task = self.tasks[task_id]
        task.checked = True
        task.completed_at = task.updated_at = self._now(at)

    def reopen(self, task_id: str, *, at: datetime | None = None) -> None:
        """Uncomplete a task, as the app would."""
        task = self.tasks[task_id]
        task.checked = False
        task.completed_at = None
        task.updated_at = self._now(at)

    def delete(self, task_id: str, *, at: datetime | None = None) -> None:
        """Delete a task, as the app would."""
        task = self.tasks[task_id]
        task.is_deleted = True
        task.updated_at = self._now(at)

    def live(self, project_id: str) -> list[FakeTask]:
        """Return the project's tasks that are not deleted (open and completed), in order."""
        return sorted(
            (t for t in self.tasks.values() if t.project_id == project_id and not t.is_deleted),
            key=lambda t: t.child_order,
        )

    def _now(self, at: datetime | None = None) -> datetime:
        """Return ``at``, or the current time, moved past the last change when not given."""
        if at is not None:
            return at
        self._last = max(datetime.now(UTC), self._last + timedelta(milliseconds=1))
        return self._last

    def _new_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids:06d}"

    # -- HTTP ----------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Log, inject faults and rate limits, check the token, then serve."""
        raw = await request.text()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        entry = LoggedRequest(
            request.method, request.path.removeprefix(PREFIX), dict(request.query), body
        )
        self.requests.append(entry)
        number = len(self.requests)
        fault = self._faults.pop(number, None)
        response = await self._serve(request, handler, number, fault)
        status = response.status if response is not None else 0
        self.requests[number - 1] = LoggedRequest(
            entry.method, entry.path, entry.query, entry.body, status
        )
        if response is None:
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        return response

    async def _serve(
        self, request: web.Request, handler: Handler, number: int, fault: Fault | None
    ) -> web.StreamResponse | None:
        """Return the answer to send, or None to drop the connection."""
        if fault is not None:
            await asyncio.sleep(fault.delay)
            if fault.failing and not fault.after:
                return _failure(fault)
        limit = self._limit
        if limit is not None and number >= limit.start and limit.remaining > 0:
            limit.remaining -= 1
            return self._too_many()
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else ""
        if token in self.forbidden:
            return _error(403, "Forbidden", "AUTH_INSUFFICIENT_TOKEN_SCOPE", 403)
        if token not in self.tokens:
            return _error(401, "Invalid token", "AUTH_INVALID_TOKEN", 401)
        try:
            response = await handler(request)
        except _ApiError as err:
            response = _error(err.status, err.message, err.tag)
        if fault is not None and fault.failing and fault.after:
            return _failure(fault)
        return response

    def _too_many(self) -> web.Response:
        assert self._limit is not None
        headers = {}
        extra: dict[str, Any] = {}
        if self._limit.retry_after is not None:
            if self._limit.in_body:
                extra["retry_after"] = self._limit.retry_after
            else:
                headers["Retry-After"] = str(self._limit.retry_after)
        return _error(429, "Too many requests", "LIMITS_REACHED", 35, extra, headers)

    async def _user(self, request: web.Request) -> web.Response:
        token = request.headers["Authorization"].removeprefix("Bearer ")
        return web.json_response(
            {"id": "1", "email": "ada@example.com", "full_name": self.tokens[token]}
        )

    async def _add_project(self, request: web.Request) -> web.Response:
        data = await _json(request)
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _ApiError(400, "Required argument is missing: name", "ARGUMENT_MISSING")
        project_id = self.add_project(name)
        return web.json_response({"id": project_id, "name": name, "child_order": 1})

    async def _list(self, request: web.Request) -> web.Response:
        project_id = self._project_of(request)
        open_tasks = sorted(
            (
                t
                for t in self.tasks.values()
                if (project_id is None or t.project_id == project_id)
                and not t.checked
                and not t.is_deleted
            ),
            key=lambda t: t.child_order,
        )
        page, cursor = self._page(request, open_tasks)
        return web.json_response({"results": [t.to_json() for t in page], "next_cursor": cursor})

    async def _completed(self, request: web.Request) -> web.Response:
        project_id = self._project_of(request)
        try:
            since = _parse_time(request.query["since"])
            until = _parse_time(request.query["until"])
        except (KeyError, ValueError):
            raise _ApiError(
                400, "Invalid argument value: since/until", "INVALID_ARGUMENT_VALUE"
            ) from None
        if not timedelta(0) <= until - since <= self.completed_window:
            raise _ApiError(400, "The date range is too long", "INVALID_DATE_RANGE")
        done = sorted(
            (
                t
                for t in self.tasks.values()
                if (project_id is None or t.project_id == project_id)
                and t.checked
                and not t.is_deleted
                and t.completed_at is not None
                and since <= t.completed_at <= until
            ),
            key=lambda t: t.completed_at or since,
            reverse=True,
        )
        page, cursor = self._page(request, done)
        return web.json_response({"items": [t.to_json() for t in page], "next_cursor": cursor})

    def _project_of(self, request: web.Request) -> str | None:
        """Return the ``project_id`` asked for (404 when unknown), None when not given."""
        project_id = request.query.get("project_id")
        if project_id is not None and project_id not in self.projects:
            raise _ApiError(404, "Project not found", "NOT_FOUND")
        return project_id

    def _page(
        self, request: web.Request, tasks: list[FakeTask]
    ) -> tuple[list[FakeTask], str | None]:
        """Return the page of ``tasks`` that ``limit``/``cursor`` ask for, and the next cursor."""
        try:
            limit = int(request.query.get("limit", "50"))
            offset = (
                int(request.query["cursor"].removeprefix("c")) if "cursor" in request.query else 0
            )
        except ValueError:
            raise _ApiError(400, "Invalid argument value", "INVALID_ARGUMENT_VALUE") from None
        if not 1 <= limit <= 200:
            raise _ApiError(400, "Invalid argument value: limit", "INVALID_ARGUMENT_VALUE")
        size = min(limit, self.page_size)
        more = offset + size < len(tasks)
        return tasks[offset : offset + size], f"c{offset + size}" if more else None

    async def _add(self, request: web.Request) -> web.Response:
        data = await _json(request)
        content = data.get("content")
        project_id = data.get("project_id")
        if not isinstance(content, str) or not content:
            raise _ApiError(400, "Required argument is missing: content", "ARGUMENT_MISSING")
        if len(content) > 500:
            raise _ApiError(400, "Content is too long", "INVALID_ARGUMENT_VALUE")
        if project_id not in self.projects:
            raise _ApiError(404, "Project not found", "NOT_FOUND")
        task = self.add_task(project_id, content)
        return web.json_response(task.to_json())

    async def _get(self, request: web.Request) -> web.Response:
        task = self._task(request)
        if task.checked and not self.get_returns_completed:
            raise _ApiError(404, "Task not found", "NOT_FOUND")
        return web.json_response(task.to_json())

    async def _update(self, request: web.Request) -> web.Response:
        task = self._task(request)
        data = await _json(request)
        content = data.get("content")
        if content is not None:
            if not isinstance(content, str) or not content or len(content) > 500:
                raise _ApiError(400, "Invalid argument value: content", "INVALID_ARGUMENT_VALUE")
            self.rename(task.id, content)
        return web.json_response(task.to_json())

    async def _close(self, request: web.Request) -> web.Response:
        self.close(self._task(request).id)
        return web.Response(status=204)

    async def _reopen(self, request: web.Request) -> web.Response:
        self.reopen(self._task(request).id)
        return web.Response(status=204)

    async def _delete(self, request: web.Request) -> web.Response:
        self.delete(self._task(request).id)
        return web.Response(status=204)

    def _task(self, request: web.Request) -> FakeTask:
        task = self.tasks.get(request.match_info["id"])
        if task is None or task.is_deleted:
            raise _ApiError(404, "Task not found", "NOT_FOUND")
        return task


class _ApiError(Exception):
    def __init__(self, status: int, message: str, tag: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.tag = tag


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise _ApiError(400, "Invalid JSON", "INVALID_JSON") from None
    if not isinstance(data, dict):
        raise _ApiError(400, "Invalid JSON", "INVALID_JSON")
    return data


def _failure(fault: Fault) -> web.Response | None:
    """Return the answer of a failing request (None: drop the connection)."""
    if fault.raw is not None:
        return web.Response(status=fault.raw[0], text=fault.raw[1], content_type="application/json")
    if fault.drop or fault.status is None:
        return None
    return _error(fault.status, "Service unavailable")


def _error(
    status: int,
    message: str,
    tag: str = "SERVICE_UNAVAILABLE",
    code: int = 0,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """Return an error in Todoist's shape."""
    return web.json_response(
        {
            "error": message,
            "error_code": code,
            "error_extra": extra or {},
            "error_tag": tag,
            "http_code": status,
        },
        status=status,
        headers=headers,
    )


def _parse_time(value: str) -> datetime:
    """Return a query time (ISO, ``Z`` or an offset; naive is UTC) as an aware UTC datetime."""
    when = datetime.fromisoformat(value)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _stamp(when: datetime) -> str:
    """Return a timestamp the way Todoist writes them (UTC, microseconds, ``Z``)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
