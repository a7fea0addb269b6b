"""The members' WebSocket commands: ``makerhub/agreement`` (the text in force and where a
person stands), ``makerhub/me`` (everything the Me view shows, with entity ids, so the
frontend guesses none), and ``/api/makerhub/me/accounts/{service}`` (a member connects or
forgets their own GitHub or Todoist account, the token checked with the service first).
All answer for the signed-in user's own person; an administrator may ask
``makerhub/agreement`` about another person."""

from __future__ import annotations

from http import HTTPStatus
import json
from typing import Any, Final

from aiohttp import web
from homeassistant.components import websocket_api
from homeassistant.components.http.const import KEY_HASS_USER
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import ERR_NOT_FOUND, ERR_UNAUTHORIZED
from homeassistant.components.websocket_api.decorators import websocket_command
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
import voluptuous as vol

from ..const import DOMAIN, HUB_DEVICE_ID
from ..core.agreement import DEFAULT_AGREEMENT
from ..core.github import GitHubError
from ..core.projects import Project
from ..core.todoist import TodoistError
from ..data import makerhub_data
from ..devices import project_device_id, station_device_id
from ..displays.manager import displays_in_area
from ..presence.manager import person_name, person_of_user
from ..projects.accounts import Service, async_check_token
from ..runtime import MakerhubRuntime, running_runtime

MAX_TOKEN: Final = 1000
"""The longest body taken (GitHub's and Todoist's tokens are far shorter)."""

PROJECT_ENTITIES: Final[dict[str, tuple[Platform, str]]] = {
    "todo": (Platform.TODO, "steps"),
    "status": (Platform.SENSOR, "status"),
    "cost": (Platform.SENSOR, "cost"),
    "month_cost": (Platform.SENSOR, "month-cost"),
    "desktop_running": (Platform.SWITCH, "desktop-running"),
    "desktop_state": (Platform.SENSOR, "desktop-state"),
    "todoist_sync": (Platform.BUTTON, "todoist-sync"),
}
"""The ``makerhub/me`` name of each project entity → its platform and unique id key."""

PERSON_ENTITIES: Final[dict[str, tuple[Platform, str]]] = {
    "station": (Platform.SENSOR, "presence-person-{person}"),
    "tracker": (Platform.DEVICE_TRACKER, "presence-tracker-{person}"),
    "active_project": (Platform.SELECT, "project-{person}"),
    "agreement": (Platform.BINARY_SENSOR, "agreement-{person}"),
}
"""The ``makerhub/me`` name of each of a person's entities (on the hub's device)."""

STATION_ENTITIES: Final[dict[str, tuple[Platform, str]]] = {
    "occupied": (Platform.BINARY_SENSOR, "presence-station-{station}-occupied"),
    "people": (Platform.SENSOR, "presence-station-{station}-people"),
}


def _entity_id(registry: er.EntityRegistry, platform: Platform, unique_id: str) -> str | None:
    return registry.async_get_entity_id(platform, DOMAIN, unique_id)


def _project_json(
    registry: er.EntityRegistry, project: Project, active: Project | None
) -> dict[str, Any]:
    device = project_device_id(project.id)
    return {
        "id": project.id,
        "slug": project.slug,
        "name": project.name,
        "status": project.status.value,
        "active": active is not None and active.id == project.id,
        "entities": {
            name: _entity_id(registry, platform, f"{device}-{key}")
            for name, (platform, key) in PROJECT_ENTITIES.items()
        },
    }


def _station_display(hass: HomeAssistant, runtime: MakerhubRuntime, station: str) -> str | None:
    """Return the device showing things at a station: the one its settings name, else the
    first display unit in the station's area (where ``makerhub.show_on_display`` looks)."""
    if configured := runtime.presence.displays.get(station):
        return configured
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, station_device_id(station))})
    if device is None or device.area_id is None:
        return None
    in_area = displays_in_area(hass, runtime.hub, device.area_id)
    if not in_area:
        return None
    shown = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, in_area[0].uid)})
    return None if shown is None else shown.id


def _station_json(
    hass: HomeAssistant, registry: er.EntityRegistry, runtime: MakerhubRuntime, person: str
) -> dict[str, Any] | None:
    """Return the station a person is at, its display and its entities (None: away)."""
    presence = runtime.presence
    current = presence.engine.person(person)
    if current is None or current.station is None:
        return None
    display = _station_display(hass, runtime, current.station)
    return {
        "id": current.station,
        "name": presence.station_name(current.station),
        "display_device_id": display,
        "display_entities": (
            []
            if display is None
            else sorted(e.entity_id for e in er.async_entries_for_device(registry, display))
        ),
        "entities": {
            name: _entity_id(
                registry, platform, f"{HUB_DEVICE_ID}-{key.format(station=current.station)}"
            )
            for name, (platform, key) in STATION_ENTITIES.items()
        },
    }


def me(hass: HomeAssistant, person: str) -> dict[str, Any]:
    """Return what the Me view shows of ``person``."""
    data = makerhub_data(hass)
    registry = er.async_get(hass)
    active = data.projects.active_project(person)
    projects = [
        _project_json(registry, project, active) for project in data.projects.choices(person)
    ]
    runtime = running_runtime(hass)
    return {
        "person": person,
        "name": person_name(hass, person),
        "hub_loaded": runtime is not None,
        "agreement": data.agreements.status(person).to_json(),
        "accounts": [service.value for service in data.accounts.connected(person)],
        "projects": projects,
        "active_project": next((p for p in projects if p["active"]), None),
        "station": None if runtime is None else _station_json(hass, registry, runtime, person),
        "entities": {
            name: _entity_id(registry, platform, f"{HUB_DEVICE_ID}-{key.format(person=person)}")
            for name, (platform, key) in PERSON_ENTITIES.items()
        },
    }


def _own_person(hass: HomeAssistant, connection: ActiveConnection, msg_id: int) -> str | None:
    person = person_of_user(hass, connection.user.id)
    if person is None:
        connection.send_error(
            msg_id,
            ERR_NOT_FOUND,
            f"user {connection.user.name} is linked to no person (Settings → People)",
        )
    return person


@websocket_command({vol.Required("type"): "makerhub/me"})
@callback
def ws_me(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Answer the signed-in user's person, projects, station and their entities."""
    if (person := _own_person(hass, connection, msg["id"])) is not None:
        connection.send_result(msg["id"], me(hass, person))


@websocket_command({vol.Required("type"): "makerhub/agreement", vol.Optional("person"): str})
@callback
def ws_agreement(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Answer the agreement in force and where the caller's person (or, for an admin,
    ``person``) stands with it."""
    own = person_of_user(hass, connection.user.id)
    person = msg.get("person", own)
    if person is None:
        _own_person(hass, connection, msg["id"])
        return
    if person != own and not connection.user.is_admin:
        connection.send_error(
            msg["id"], ERR_UNAUTHORIZED, "only an admin may read another person's agreement"
        )
        return
    agreements = makerhub_data(hass).agreements
    text = agreements.text()
    connection.send_result(
        msg["id"],
        {"text": text, "default": text == DEFAULT_AGREEMENT, **agreements.status(person).to_json()},
    )


class MeAccountView(HomeAssistantView):
    """``POST`` (``{"token": …}``) and ``DELETE`` ``/api/makerhub/me/accounts/{service}``:
    the caller connects, or forgets, their own account on GitHub or Todoist.

    HTTP rather than WebSocket: Home Assistant's WebSocket debug log shows every message
    received, the token with it; request bodies are never logged."""

    url = "/api/makerhub/me/accounts/{service}"
    name = "api:makerhub:me:accounts"
    requires_auth = True

    async def post(self, request: web.Request, service: str) -> web.Response:
        """Check the token with the service, then store it sealed for the caller's person."""
        raw = await request.content.read(MAX_TOKEN + 1)
        try:
            token = json.loads(raw).get("token") if len(raw) <= MAX_TOKEN else None
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token.strip():
            return self.json_message('the body must be {"token": "…"}', HTTPStatus.BAD_REQUEST)
        return await self._set(request, service, token.strip())

    async def delete(self, request: web.Request, service: str) -> web.Response:
        """Forget the caller's account on the service."""
        return await self._set(request, service, None)

    async def _set(self, request: web.Request, service: str, token: str | None) -> web.Response:
        hass = request.app[KEY_HASS]
        user = request[KEY_HASS_USER]
        if service not in {s.value for s in Service}:
            return self.json_message(f"no service {service!r}", HTTPStatus.NOT_FOUND)
        person = person_of_user(hass, user.id)
        if person is None:
            return self.json_message(
                f"user {user.name} is linked to no person (Settings → People)",
                HTTPStatus.FORBIDDEN,
            )
        account = None
        if token is not None:
            try:
                account = await async_check_token(hass, Service(service), token)
            except (GitHubError, TodoistError) as err:  # the service's reason, never the token
                return self.json_message(str(err), HTTPStatus.BAD_REQUEST)
        accounts = makerhub_data(hass).accounts
        await accounts.async_set(person, Service(service), token)
        return self.json(
            {
                "service": service,
                "connected": token is not None,
                "account": account,
                "accounts": [s.value for s in accounts.connected(person)],
            }
        )


def async_register_api(hass: HomeAssistant) -> None:
    """Register the members' WebSocket commands and account endpoint."""
    websocket_api.async_register_command(hass, ws_me)
    websocket_api.async_register_command(hass, ws_agreement)
    hass.http.register_view(MeAccountView())
