"""Projects in Home Assistant: storage, the REST API and the service actions.

The model and its rules are the pure core (``core/projects.py``). Projects belong to the
integration, not to the hub entry: they are loaded once (``async_setup``) and kept in
``.storage/makerhub.projects``. Owners are Home Assistant users; a non-admin may change
only their own projects. ``docs/projects-openapi.yaml`` describes the API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
import json
from typing import Any, Final

from aiohttp import web
from homeassistant.auth.models import User
from homeassistant.components import mqtt, websocket_api
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
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey
import voluptuous as vol

from .const import DOMAIN, EVENT_PROJECT_SWITCHED
from .core.projects import (
    Project,
    ProjectNotFoundError,
    ProjectRegistry,
    ProjectStatus,
    ProjectValidationError,
)
from .core.protocol import DEFAULT_PREFIX

STORAGE_KEY: Final = "makerhub.projects"
STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 1.0
MAX_BODY: Final = 64 * 1024
DATA_PROJECTS: HassKey[Projects] = HassKey("makerhub_projects")


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
        self.prefix = DEFAULT_PREFIX
        """The hub's topic prefix (the hub sets it), for the people's project topics."""
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
            topic = f"{self.prefix}/space/people/{person.removeprefix('person.')}/project"
            self.hass.async_create_background_task(
                mqtt.async_publish(self.hass, topic, "" if after is None else after.slug, 1, True),
                f"makerhub publish {topic}",
            )
        self.saved(None)


def may_change(user: User, project: Project) -> bool:
    """Return whether a user may change a project: its owner, or an admin."""
    return user.is_admin or project.owner == user.id


# -- REST API ---------------------------------------------------------------------------


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
        projects = request.app[KEY_HASS].data[DATA_PROJECTS]
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


# -- service actions --------------------------------------------------------------------


def _service_error(err: ProjectValidationError | ProjectNotFoundError) -> ServiceValidationError:
    if isinstance(err, ProjectNotFoundError):
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_project",
            translation_placeholders={"project": str(err.args[0])},
        )
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="invalid_project_input",
        translation_placeholders={"error": str(err)},
    )


async def _caller(call: ServiceCall) -> User | None:
    if call.context.user_id is None:
        return None  # automations and scripts act as the system
    return await call.hass.auth.async_get_user(call.context.user_id)


async def _checked(call: ServiceCall, ref: str) -> tuple[Projects, str]:
    """Return the projects and the id of the project ``ref`` (id or slug) the caller may
    change."""
    projects = call.hass.data[DATA_PROJECTS]
    try:
        project = projects.registry.lookup(ref)
    except ProjectNotFoundError as err:
        raise _service_error(err) from err
    user = await _caller(call)
    if user is not None and not may_change(user, project):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_your_project",
            translation_placeholders={"project": project.name},
        )
    return projects, project.id


async def _async_create_project(call: ServiceCall) -> ServiceResponse:
    projects = call.hass.data[DATA_PROJECTS]
    user = await _caller(call)
    data = dict(call.data)
    owner = data.pop("owner", None) or (user.id if user else None)
    if owner is None:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="project_owner")
    try:
        project = projects.saved(projects.registry.create(data, owner))
    except ProjectValidationError as err:
        raise _service_error(err) from err
    return project.to_json()


async def _async_add_step(call: ServiceCall) -> ServiceResponse:
    projects, project_id = await _checked(call, call.data["project"])
    try:
        project = projects.registry.add_step(
            project_id, call.data["text"], call.data.get("position")
        )
    except ProjectValidationError as err:
        raise _service_error(err) from err
    return projects.saved(project).to_json()


async def _async_set_active_project(call: ServiceCall) -> ServiceResponse:
    projects = call.hass.data[DATA_PROJECTS]
    person = call.data["person"]
    user = await _caller(call)
    state = call.hass.states.get(person)
    if (
        user is not None
        and not user.is_admin
        and (state is None or state.attributes.get("user_id") != user.id)
    ):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_your_person",
            translation_placeholders={"person": person},
        )
    wanted = call.data["project"]
    project_id = None
    if wanted != NO_PROJECT:
        match = [p for p in projects.choices(person) if wanted in (p.id, p.slug)]
        if not match:
            raise _service_error(
                ProjectValidationError({"project": f"{wanted} is none of {person}'s projects"})
            )
        project_id = match[0].id
    projects.set_active(person, project_id)
    active = projects.active_project(person)
    return {"person": person, "project": None if active is None else active.to_json()}


async def _async_log_expense(call: ServiceCall) -> ServiceResponse:
    projects, project_id = await _checked(call, call.data["project"])
    data = {key: call.data[key] for key in ("amount", "currency", "note") if key in call.data}
    if "date" in call.data:
        data["date"] = call.data["date"].isoformat()
    try:
        project, expense = projects.registry.add_expense(
            project_id, data, today=dt_util.now().date()
        )
    except ProjectValidationError as err:
        raise _service_error(err) from err
    projects.saved(project)
    return expense.to_json()


NO_PROJECT: Final = "none"

SERVICES: Final = {
    "set_active_project": (
        _async_set_active_project,
        vol.Schema({vol.Required("person"): cv.entity_id, vol.Required("project"): cv.string}),
    ),
    "create_project": (
        _async_create_project,
        vol.Schema(
            {
                vol.Required("name"): cv.string,
                vol.Optional("description"): cv.string,
                vol.Optional("space_use"): cv.string,
                vol.Optional("github_url"): cv.string,
                vol.Optional("steps"): vol.All(cv.ensure_list, [cv.string]),
                vol.Optional("owner"): cv.string,
            }
        ),
    ),
    "add_step": (
        _async_add_step,
        vol.Schema(
            {
                vol.Required("project"): cv.string,
                vol.Required("text"): cv.string,
                vol.Optional("position"): vol.All(vol.Coerce(int), vol.Range(min=0)),
            }
        ),
    ),
    "log_expense": (
        _async_log_expense,
        vol.Schema(
            {
                vol.Required("project"): cv.string,
                vol.Required("amount"): vol.Any(int, float, str),
                vol.Required("currency"): cv.string,
                vol.Optional("note"): cv.string,
                vol.Optional("date"): cv.date,
            }
        ),
    ),
}


async def async_setup_projects(hass: HomeAssistant) -> None:
    """Load the projects and register the API and the service actions."""
    hass.data[DATA_PROJECTS] = await Projects.async_load(hass)
    for view in (ProjectListView(), ProjectView(), ProjectActionView(), ProjectStepView()):
        hass.http.register_view(view)
    for command in WS_COMMANDS:
        websocket_api.async_register_command(hass, command)
    for name, (handler, schema) in SERVICES.items():
        hass.services.async_register(
            DOMAIN, name, handler, schema=schema, supports_response=SupportsResponse.OPTIONAL
        )


# -- WebSocket commands (the frontend's view of the same API) ---------------------------

type WsOperation = Callable[[ProjectRegistry, dict[str, Any]], Any]


def _ws_command(
    command: str, fields: Mapping[Any, Any], operation: WsOperation, *, change: bool = True
) -> WebSocketCommandHandler:
    """Build a command that runs ``operation`` on the registry, checking ownership."""
    schema: dict[Any, Any] = {vol.Required("type"): f"makerhub/projects/{command}", **fields}

    @websocket_command(schema)
    @callback
    def handle(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
        projects = hass.data[DATA_PROJECTS]
        try:
            if change and "project_id" in msg:
                _changeable(projects, connection.user, msg["project_id"])
            result = operation(projects.registry, {**msg, "user": connection.user})
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
