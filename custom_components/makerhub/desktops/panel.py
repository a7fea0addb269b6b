"""The Desktops sidebar panel: its files, its registration and its WebSocket commands.

The panel (``frontend/desktops-panel.js``, a plain ES module web component) lists the
signed-in user's project desktops (an admin's: every project's) and opens one in the page
with noVNC. What it may do is decided here, by the server, from the WebSocket
connection's user, whatever the browser sends:

- ``makerhub/desktops/list``: the desktops the user sees, with state and whether the user
  may control each (the project's owner, or an admin);
- ``makerhub/desktops/connect``: a single-use connect URL, as controller for those who may
  control and as viewer otherwise; asking for ``controller`` without the right is refused;
- ``makerhub/desktops/start`` (anyone, as the ``start_desktop`` action) and
  ``makerhub/desktops/stop`` (owner or admin).

The URL goes through the add-on's ingress when the service is the add-on (``ingress.py``),
and is the service's own address otherwise. The panel is shown while the hub has a
desktops service; its sidebar title is translated (``selector.desktops_panel`` of
``strings.json``, the category hassfest allows an integration's free texts in). Its module
is a static file, public like Home Assistant's own frontend files (it holds no data:
everything comes through the authenticated commands).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from homeassistant.auth.models import User
from homeassistant.components import frontend, panel_custom, websocket_api
from homeassistant.components.http import StaticPathConfig
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.decorators import async_response, websocket_command
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, Unauthorized
from homeassistant.helpers.translation import async_get_translations
import voluptuous as vol

from ..const import DOMAIN
from ..core.desktops_client import Desktop, DesktopState, Role
from ..core.projects import Project, ProjectStatus
from ..data import makerhub_data
from ..projects.store import lookup_project, may_change
from ..runtime import loaded_runtime, running_runtime
from .ingress import IngressError, async_ingress_entry, ingress_addon, ingress_url, is_supervised
from .manager import HubDesktops

PANEL_PATH: Final = "makerhub-desktops"
"""The panel's address in the frontend (``/makerhub-desktops``)."""
PANEL_ELEMENT: Final = "makerhub-desktops-panel"
PANEL_ICON: Final = "mdi:monitor"
STATIC_URL: Final = "/makerhub_static/desktops"
FRONTEND: Final = Path(__file__).parent / "frontend"
MODULE: Final = "desktops-panel.js"
TITLE_KEY: Final = f"component.{DOMAIN}.selector.desktops_panel.options.title"


def _module_url() -> str:
    """Return the module's URL, its modification time in it so a changed file is fetched."""
    return f"{STATIC_URL}/{MODULE}?v={int((FRONTEND / MODULE).stat().st_mtime)}"


async def async_setup_panel(hass: HomeAssistant) -> None:
    """Serve the panel's files and register its WebSocket commands (once, at set-up)."""
    await hass.http.async_register_static_paths(
        [StaticPathConfig(STATIC_URL, str(FRONTEND), cache_headers=False)]
    )
    for command in WS_COMMANDS:
        websocket_api.async_register_command(hass, command)


async def async_show_panel(hass: HomeAssistant, desktops: HubDesktops) -> Callable[[], None]:
    """Add the panel to the sidebar while a desktops service is set up (and the frontend
    runs); return what removes it again (for the hub's unload)."""
    if not desktops.configured or "frontend" not in hass.config.components:
        return lambda: None
    translations = await async_get_translations(hass, hass.config.language, "selector", {DOMAIN})
    await panel_custom.async_register_panel(
        hass,
        frontend_url_path=PANEL_PATH,
        webcomponent_name=PANEL_ELEMENT,
        sidebar_title=translations.get(TITLE_KEY, "Desktops"),
        sidebar_icon=PANEL_ICON,
        module_url=_module_url(),
        require_admin=False,
        config={"domain": DOMAIN},
    )
    return lambda: frontend.async_remove_panel(hass, PANEL_PATH)


# --- what a user sees and may do ----------------------------------------------------


def visible_projects(projects: list[Project], user: User) -> list[Project]:
    """Return the projects whose desktops the panel lists for ``user``: their own (an
    admin: everyone's), archived ones left out, by name."""
    return sorted(
        (
            project
            for project in projects
            if project.status is not ProjectStatus.ARCHIVED
            and (user.is_admin or project.owner == user.id)
        ),
        key=lambda project: project.name.casefold(),
    )


def granted_role(user: User, project: Project, asked: Role | None) -> Role:
    """Return the role a user gets for a project's desktop: controller for its owner and
    admins, viewer otherwise; asking for controller without the right is refused, asking
    for viewer is always granted."""
    controls = may_change(user, project)
    if asked is Role.CONTROLLER and not controls:
        raise Unauthorized(user_id=user.id)
    if asked is None:
        return Role.CONTROLLER if controls else Role.VIEWER
    return asked


def desktop_json(project: Project, desktop: Desktop | None, user: User) -> dict[str, Any]:
    """Return one row of the panel's list."""
    return {
        "project": project.id,
        "slug": project.slug,
        "name": project.name,
        "state": str(DesktopState.STOPPED if desktop is None else desktop.state),
        "viewers": 0 if desktop is None else desktop.viewers,
        "controllers": 0 if desktop is None else desktop.controllers,
        "error": None if desktop is None else desktop.error,
        "may_control": may_change(user, project),
    }


async def async_connect_url(
    hass: HomeAssistant, desktops: HubDesktops, project: Project, role: Role
) -> dict[str, Any]:
    """Issue a connect URL for ``role``: through the add-on's ingress or direct."""
    connect = await desktops.async_connect(project.id, role)
    slug = ingress_addon(desktops.entry.options, is_supervised(hass))
    url = connect.url
    if slug is not None:
        try:
            url = ingress_url(await async_ingress_entry(hass, slug), connect.path)
        except IngressError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="desktop_failed",
                translation_placeholders={"error": str(err)},
            ) from err
    return {
        "project": project.id,
        "role": str(connect.role),
        "url": url,
        "ingress": slug is not None,
        "expires": connect.expires,
    }


# --- WebSocket commands -------------------------------------------------------------


def _configured_desktops(hass: HomeAssistant) -> HubDesktops:
    desktops = loaded_runtime(hass).desktops
    desktops.require_client()
    return desktops


@websocket_command({vol.Required("type"): "makerhub/desktops/list"})
@async_response
async def ws_list(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """The user's desktops (nothing while no hub or service is set up)."""
    runtime = running_runtime(hass)
    user = connection.user
    if runtime is None or not runtime.desktops.configured:
        connection.send_result(msg["id"], {"configured": False, "available": False, "desktops": []})
        return
    desktops = runtime.desktops
    projects = visible_projects(makerhub_data(hass).projects.registry.find(), user)
    connection.send_result(
        msg["id"],
        {
            "configured": True,
            "available": desktops.available,
            "desktops": [desktop_json(p, desktops.desktop(p.id), user) for p in projects],
        },
    )


PROJECT: Final[dict[Any, Any]] = {vol.Required("project"): str}


@websocket_command(
    {
        vol.Required("type"): "makerhub/desktops/connect",
        **PROJECT,
        vol.Optional("role"): vol.In([str(role) for role in Role]),
    }
)
@async_response
async def ws_connect(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """A connect URL for the user's role (controller only for the owner and admins)."""
    desktops = _configured_desktops(hass)
    project = lookup_project(makerhub_data(hass).projects, msg["project"])
    role = granted_role(connection.user, project, Role(msg["role"]) if "role" in msg else None)
    connection.send_result(msg["id"], await async_connect_url(hass, desktops, project, role))


@websocket_command({vol.Required("type"): "makerhub/desktops/start", **PROJECT})
@async_response
async def ws_start(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Start (or resume) a desktop: anyone may, as with the ``start_desktop`` action."""
    desktops = _configured_desktops(hass)
    project = lookup_project(makerhub_data(hass).projects, msg["project"])
    desktop = await desktops.async_start_desktop(project.id)
    connection.send_result(msg["id"], desktop_json(project, desktop, connection.user))


@websocket_command({vol.Required("type"): "makerhub/desktops/stop", **PROJECT})
@async_response
async def ws_stop(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Stop a desktop: its owner and admins only."""
    desktops = _configured_desktops(hass)
    project = lookup_project(makerhub_data(hass).projects, msg["project"])
    if not may_change(connection.user, project):
        raise Unauthorized(user_id=connection.user.id)
    desktop = await desktops.async_stop_desktop(project.id)
    connection.send_result(msg["id"], desktop_json(project, desktop, connection.user))


WS_COMMANDS: Final = (ws_list, ws_connect, ws_start, ws_stop)
