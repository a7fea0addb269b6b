"""Desktop actions: ``makerhub.start_desktop``, ``makerhub.stop_desktop`` and
``makerhub.desktop_url``.

Anyone may start a desktop and get a viewer URL (a viewer starts it on connect anyway);
stopping it and a controller URL (keyboard and mouse) are for the project's owner and
admins. Automations and scripts, with no user, act as the system.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from ..const import DOMAIN
from ..core.desktops_client import Desktop, DesktopState, Role
from ..core.projects import Project
from ..data import makerhub_data
from ..projects.store import changeable_project, lookup_project
from ..runtime import loaded_runtime
from .manager import HubDesktops

PROJECT_SCHEMA: Final = vol.Schema({vol.Required("project"): cv.string})
URL_SCHEMA: Final = vol.Schema(
    {
        vol.Required("project"): cv.string,
        vol.Optional("role", default=str(Role.VIEWER)): vol.In([str(role) for role in Role]),
    }
)


def _desktop_json(project: Project, desktop: Desktop | None) -> dict[str, Any]:
    if desktop is None:
        return {"project": project.id, "state": str(DesktopState.STOPPED), "viewers": 0}
    return {
        "project": project.id,
        "state": str(desktop.state),
        "viewers": desktop.viewers,
        "controllers": desktop.controllers,
    }


async def _target(call: ServiceCall, *, owner_only: bool) -> tuple[HubDesktops, Project]:
    """Return the desktops and the project ``call`` names; refuse a caller who is neither
    its owner nor an admin when ``owner_only``."""
    desktops = loaded_runtime(call.hass).desktops
    if not desktops.configured:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="desktops_not_configured"
        )
    projects, ref = makerhub_data(call.hass).projects, call.data["project"]
    if owner_only:
        project = await changeable_project(call, projects, ref, refusal="not_your_desktop")
    else:
        project = lookup_project(projects, ref)
    return desktops, project


async def _async_start_desktop(call: ServiceCall) -> ServiceResponse:
    desktops, project = await _target(call, owner_only=False)
    return _desktop_json(project, await desktops.async_start_desktop(project.id))


async def _async_stop_desktop(call: ServiceCall) -> ServiceResponse:
    desktops, project = await _target(call, owner_only=True)
    return _desktop_json(project, await desktops.async_stop_desktop(project.id))


async def _async_desktop_url(call: ServiceCall) -> ServiceResponse:
    role = Role(call.data["role"])
    desktops, project = await _target(call, owner_only=role is Role.CONTROLLER)
    connect = await desktops.async_connect(project.id, role)
    return {
        "project": project.id,
        "role": str(connect.role),
        "url": connect.url,
        "path": connect.path,
        "expires": connect.expires,
    }


SERVICES: Final = {
    "start_desktop": (_async_start_desktop, PROJECT_SCHEMA, SupportsResponse.OPTIONAL),
    "stop_desktop": (_async_stop_desktop, PROJECT_SCHEMA, SupportsResponse.OPTIONAL),
    "desktop_url": (_async_desktop_url, URL_SCHEMA, SupportsResponse.ONLY),
}


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the desktop actions."""
    for name, (handler, schema, response) in SERVICES.items():
        hass.services.async_register(
            DOMAIN, name, handler, schema=schema, supports_response=response
        )
