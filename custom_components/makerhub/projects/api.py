"""The projects' REST API (``/api/makerhub/projects…``) and WebSocket commands: anyone
reads, owners and administrators change."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
import json
from typing import Any, Final

from aiohttp import web
from homeassistant.auth.models import User
from homeassistant.components import websocket_api
from homeassistant.components.http.const import KEY_HASS_USER
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import (
    ERR_INVALID_FORMAT,
    ERR_NOT_FOUND,
    ERR_UNAUTHORIZED,
    WebSocketCommandHandler,
)
from homeassistant.components.websocket_api.decorators import websocket_command
from homeassistant.core import (
    HomeAssistant,
    callback,
)
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.util import dt as dt_util
import voluptuous as vol

from ..core.projects import (
    Project,
    ProjectNotFoundError,
    ProjectRegistry,
    ProjectValidationError,
)
from ..data import makerhub_data
from .store import MAX_BODY, Projects, may_change


def _error(message: str, status: HTTPStatus, **extra: Any) -> web.Response:
    return web.json_response({"message": message, **extra}, status=status)


async def _body(request: web.Request) -> Any:
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise ProjectValidationError({"body": f"at most {MAX_BODY} bytes"})
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise ProjectValidationError({"body": "not JSON"}) from None


class _ProjectsView(HomeAssistantView):
    """Shared handling: the user, the registry, errors as 400/403/404 JSON."""

    requires_auth = True

    async def _run(
        self,
        request: web.Request,
        action: Callable[[Projects, User], web.Response],
    ) -> web.Response:
        projects = makerhub_data(request.app[KEY_HASS]).projects
        user: User = request[KEY_HASS_USER]
        try:
            return action(projects, user)
        except ProjectValidationError as err:
            return _error("invalid input", HTTPStatus.BAD_REQUEST, errors=err.errors)
        except ProjectNotFoundError as err:
            return _error(f"no project or step {err.args[0]!r}", HTTPStatus.NOT_FOUND)
        except PermissionError as err:
            return _error(str(err), HTTPStatus.FORBIDDEN)


def _project_json(project: Project) -> web.Response:
    return web.json_response(project.to_json())


def _changeable(projects: Projects, user: User, project_id: str) -> Project:
    project = projects.registry.get(project_id)
    if not may_change(user, project):
        raise PermissionError("only the project's owner or an admin may change it")
    return project


class ProjectListView(_ProjectsView):
    """``GET`` (``?owner=&status=``) and ``POST`` ``/api/makerhub/projects``."""

    url = "/api/makerhub/projects"
    name = "api:makerhub:projects"

    async def get(self, request: web.Request) -> web.Response:
        """List projects."""
        owner = request.query.get("owner")
        status = request.query.get("status")
        return await self._run(
            request,
            lambda projects, _user: web.json_response(
                [p.to_json() for p in projects.registry.find(owner, status)]
            ),
        )

    async def post(self, request: web.Request) -> web.Response:
        """Create a project owned by the caller (an admin may give ``owner``)."""
        try:
            body = await _body(request)
        except ProjectValidationError as err:
            return _error("invalid input", HTTPStatus.BAD_REQUEST, errors=err.errors)

        def create(projects: Projects, user: User) -> web.Response:
            data = dict(body) if isinstance(body, dict) else body
            owner = user.id
            if isinstance(data, dict) and "owner" in data:
                owner = str(data.pop("owner"))
                if owner != user.id and not user.is_admin:
                    raise PermissionError("only an admin may create projects for others")
            makerhub_data(request.app[KEY_HASS]).agreements.require_signed(owner)
            project = projects.saved(projects.registry.create(data, owner))
            return web.json_response(project.to_json(), status=HTTPStatus.CREATED)

        return await self._run(request, create)


class ProjectView(_ProjectsView):
    """``GET``, ``PATCH``, ``DELETE`` ``/api/makerhub/projects/{project_id}``."""

    url = "/api/makerhub/projects/{project_id}"
    name = "api:makerhub:project"

    async def get(self, request: web.Request, project_id: str) -> web.Response:
        """Return one project."""
        return await self._run(
            request, lambda projects, _user: _project_json(projects.registry.get(project_id))
        )

    async def patch(self, request: web.Request, project_id: str) -> web.Response:
        """Change fields of a project."""
        body = await _body_or_error(request)
        if isinstance(body, web.Response):
            return body

        def update(projects: Projects, user: User) -> web.Response:
            _changeable(projects, user, project_id)
            return _project_json(projects.saved(projects.registry.update(project_id, body)))

        return await self._run(request, update)

    async def delete(self, request: web.Request, project_id: str) -> web.Response:
        """Delete a project."""

        def delete(projects: Projects, user: User) -> web.Response:
            _changeable(projects, user, project_id)
            return _project_json(projects.saved(projects.registry.delete(project_id)))

        return await self._run(request, delete)


async def _body_or_error(request: web.Request) -> Any:
    try:
        return await _body(request)
    except ProjectValidationError as err:
        return _error("invalid input", HTTPStatus.BAD_REQUEST, errors=err.errors)


class ProjectActionView(_ProjectsView):
    """``POST /api/makerhub/projects/{project_id}/{action}``: archive, steps, expenses."""

    url = "/api/makerhub/projects/{project_id}/{action}"
    name = "api:makerhub:project:action"

    async def get(self, request: web.Request, project_id: str, action: str) -> web.Response:
        """List a project's steps or expenses."""
        if action not in ("steps", "expenses"):
            return _error(f"no such resource {action!r}", HTTPStatus.NOT_FOUND)
        return await self._run(
            request,
            lambda projects, _user: web.json_response(
                projects.registry.get(project_id).to_json()[action]
            ),
        )

    async def post(self, request: web.Request, project_id: str, action: str) -> web.Response:
        """Archive, add a step, reorder the steps, or log an expense."""
        body = await _body_or_error(request)
        if isinstance(body, web.Response):
            return body
        if not isinstance(body, dict):
            return _error("invalid input", HTTPStatus.BAD_REQUEST, errors={"body": "an object"})

        def act(projects: Projects, user: User) -> web.Response:
            _changeable(projects, user, project_id)
            registry = projects.registry
            if action == "archive":
                project = registry.archive(project_id)
            elif action == "steps":
                project = registry.add_step(project_id, body.get("text"), body.get("position"))
            elif action == "reorder":
                project = registry.reorder_steps(project_id, body.get("order"))
            elif action == "expenses":
                project, expense = registry.add_expense(
                    project_id, body, today=dt_util.now().date()
                )
                projects.saved(project)
                return web.json_response(expense.to_json(), status=HTTPStatus.CREATED)
            else:
                raise ProjectNotFoundError(action)
            return _project_json(projects.saved(project))

        return await self._run(request, act)


class ProjectStepView(_ProjectsView):
    """``PATCH``/``DELETE`` a step; ``POST .../complete`` marks it done."""

    url = "/api/makerhub/projects/{project_id}/steps/{step_id}"
    name = "api:makerhub:project:step"

    async def patch(self, request: web.Request, project_id: str, step_id: str) -> web.Response:
        """Change a step's ``text``, ``done`` or ``position``."""
        body = await _body_or_error(request)
        if isinstance(body, web.Response):
            return body
        if not isinstance(body, dict) or set(body) - {"text", "done", "position"}:
            return _error(
                "invalid input",
                HTTPStatus.BAD_REQUEST,
                errors={"body": "an object with text, done and/or position"},
            )

        def edit(projects: Projects, user: User) -> web.Response:
            _changeable(projects, user, project_id)
            registry = projects.registry
            project = registry.edit_step(project_id, step_id, body.get("text"), body.get("done"))
            if "position" in body:
                project = registry.move_step(project_id, step_id, body["position"])
            return _project_json(projects.saved(project))

        return await self._run(request, edit)

    async def post(self, request: web.Request, project_id: str, step_id: str) -> web.Response:
        """Complete a step (``.../steps/{step_id}`` with ``{"done": true}`` does the same)."""

        def complete(projects: Projects, user: User) -> web.Response:
            _changeable(projects, user, project_id)
            return _project_json(
                projects.saved(projects.registry.complete_step(project_id, step_id))
            )

        return await self._run(request, complete)

    async def delete(self, request: web.Request, project_id: str, step_id: str) -> web.Response:
        """Remove a step."""

        def remove(projects: Projects, user: User) -> web.Response:
            _changeable(projects, user, project_id)
            return _project_json(projects.saved(projects.registry.remove_step(project_id, step_id)))

        return await self._run(request, remove)


type WsOperation = Callable[[ProjectRegistry, dict[str, Any]], Any]
"""A command's work on the registry; the message carries the ``user`` and ``hass``."""


def _ws_command(
    command: str, fields: Mapping[Any, Any], operation: WsOperation, *, change: bool = True
) -> WebSocketCommandHandler:
    """Build a command that runs ``operation`` on the registry, checking ownership."""
    schema: dict[Any, Any] = {vol.Required("type"): f"makerhub/projects/{command}", **fields}

    @websocket_command(schema)
    @callback
    def handle(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
        projects = makerhub_data(hass).projects
        try:
            if change and "project_id" in msg:
                _changeable(projects, connection.user, msg["project_id"])
            result = operation(projects.registry, {**msg, "user": connection.user, "hass": hass})
        except ProjectValidationError as err:
            connection.send_error(msg["id"], ERR_INVALID_FORMAT, str(err))
            return
        except ProjectNotFoundError as err:
            connection.send_error(msg["id"], ERR_NOT_FOUND, f"no {err.args[0]!r}")
            return
        except PermissionError as err:
            connection.send_error(msg["id"], ERR_UNAUTHORIZED, str(err))
            return
        if change:
            projects.saved(result)
        connection.send_result(msg["id"], _ws_json(result))

    return handle


def _ws_json(result: Any) -> Any:
    if isinstance(result, Project):
        return result.to_json()
    if isinstance(result, tuple):  # (project, expense)
        return result[1].to_json()
    return [project.to_json() for project in result]


def _create(registry: ProjectRegistry, msg: dict[str, Any]) -> Project:
    user: User = msg["user"]
    data = dict(msg["project"])
    owner = str(data.pop("owner", user.id))
    if owner != user.id and not user.is_admin:
        raise PermissionError("only an admin may create projects for others")
    makerhub_data(msg["hass"]).agreements.require_signed(owner)
    return registry.create(data, owner)


PROJECT_ID: Final[dict[Any, Any]] = {vol.Required("project_id"): str}


STEP_ID: Final[dict[Any, Any]] = {**PROJECT_ID, vol.Required("step_id"): str}


WS_COMMANDS: Final = (
    _ws_command(
        "list",
        {vol.Optional("owner"): str, vol.Optional("status"): str},
        lambda r, m: r.find(m.get("owner"), m.get("status")),
        change=False,
    ),
    _ws_command("get", PROJECT_ID, lambda r, m: r.get(m["project_id"]), change=False),
    _ws_command("create", {vol.Required("project"): dict}, _create),
    _ws_command(
        "update",
        {**PROJECT_ID, vol.Required("changes"): dict},
        lambda r, m: r.update(m["project_id"], m["changes"]),
    ),
    _ws_command("archive", PROJECT_ID, lambda r, m: r.archive(m["project_id"])),
    _ws_command("delete", PROJECT_ID, lambda r, m: r.delete(m["project_id"])),
    _ws_command(
        "steps/add",
        {**PROJECT_ID, vol.Required("text"): str, vol.Optional("position"): int},
        lambda r, m: r.add_step(m["project_id"], m["text"], m.get("position")),
    ),
    _ws_command(
        "steps/update",
        {**STEP_ID, vol.Optional("text"): str, vol.Optional("done"): bool},
        lambda r, m: r.edit_step(m["project_id"], m["step_id"], m.get("text"), m.get("done")),
    ),
    _ws_command(
        "steps/move",
        {**STEP_ID, vol.Required("position"): int},
        lambda r, m: r.move_step(m["project_id"], m["step_id"], m["position"]),
    ),
    _ws_command("steps/delete", STEP_ID, lambda r, m: r.remove_step(m["project_id"], m["step_id"])),
    _ws_command(
        "expenses/add",
        {**PROJECT_ID, vol.Required("expense"): dict},
        lambda r, m: r.add_expense(m["project_id"], m["expense"], today=dt_util.now().date()),
    ),
)


def async_register_api(hass: HomeAssistant) -> None:
    """Register the projects' REST endpoints and WebSocket commands."""
    for view in (ProjectListView(), ProjectView(), ProjectActionView(), ProjectStepView()):
        hass.http.register_view(view)
    for command in WS_COMMANDS:
        websocket_api.async_register_command(hass, command)
