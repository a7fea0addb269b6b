"""The hub pages a display loads without a Home Assistant login, each authenticated by
its signature (``core.displays``): a kiosk has no login, and the page must still open
when Chromium reloads it days later.

``GET /api/makerhub/display/idle?display=…&sig=…``: the idle page (the space's logo, a
clock, whether the space is active); it polls ``…/idle/status`` with the same query.
``GET /api/makerhub/display/desktop?display=…&project=…&role=…&sig=…``: a redirect to a
fresh connect URL of the project's desktop (connect tokens are single-use and
short-lived), in kiosk form (no noVNC control bar or status banner over the desktop);
``controller`` only while the display is configured as interactive.

A refused load (bad signature, a unit that is no display any more) is counted by reason.
"""

from __future__ import annotations

import base64
from http import HTTPStatus
from pathlib import Path
from typing import Final

from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.helpers.translation import async_get_translations

from ..const import DOMAIN, HUB_NOT_RUNNING
from ..core.desktops_client import Role
from ..core.displays import (
    DESKTOP_PATH,
    IDLE_PATH,
    IDLE_STATUS_PATH,
    PagePurpose,
    desktop_subject,
    signature_valid,
)
from ..core.unit import UnitRuntime
from ..data import makerhub_data
from ..projects.store import lookup_project
from ..runtime import MakerhubRuntime, running_runtime
from .idle_page import TEXT_KEYS, idle_page
from .manager import async_page_key, display_record, interactive_displays

LOGO: Final = Path(__file__).parent.parent / "brand" / "dark_logo.png"
NO_STORE: Final = {"Cache-Control": "no-store"}
IDLE_TEXTS: Final = f"component.{DOMAIN}.selector.display_idle_page.options"


async def async_idle_texts(hass: HomeAssistant) -> dict[str, str]:
    """Return the idle page's texts in Home Assistant's language (English for the keys a
    language lacks: Home Assistant's own fallback)."""
    found = await async_get_translations(hass, hass.config.language, "selector", {DOMAIN})
    return {key: found[f"{IDLE_TEXTS}.{key}"] for key in TEXT_KEYS}


async def _async_display(
    request: web.Request, purpose: PagePurpose, subject: str = ""
) -> tuple[MakerhubRuntime, UnitRuntime] | web.Response:
    """Return the runtime and the display a signed request is for, or the refusal."""
    hass: HomeAssistant = request.app[KEY_HASS]
    record = display_record(hass)
    uid = request.query.get("display", "")
    given = request.query.get("sig", "")
    if not signature_valid(await async_page_key(hass), purpose, uid, subject, given):
        record.refused_pages["bad_signature"] += 1
        return web.json_response(
            {"message": "the page's signature does not match"}, status=HTTPStatus.UNAUTHORIZED
        )
    if (runtime := running_runtime(hass)) is None:
        return web.json_response(
            {"message": HUB_NOT_RUNNING}, status=HTTPStatus.SERVICE_UNAVAILABLE
        )
    if (unit := runtime.hub.units.get(uid)) is None:
        record.refused_pages["unknown_display"] += 1
        return web.json_response({"message": f"no display {uid}"}, status=HTTPStatus.NOT_FOUND)
    return runtime, unit


class DisplayIdleView(HomeAssistantView):
    """``GET /api/makerhub/display/idle``: a display's idle page."""

    url = IDLE_PATH
    name = "api:makerhub:display:idle"
    requires_auth = False  # the signature authenticates it (a kiosk has no login)

    def __init__(self, logo: bytes) -> None:
        """Keep the logo, put into the page."""
        self._logo = base64.b64encode(logo).decode()

    async def get(self, request: web.Request) -> web.Response:
        """Return the page, or why not."""
        found = await _async_display(request, PagePurpose.IDLE)
        if isinstance(found, web.Response):
            return found
        _runtime, unit = found
        hass: HomeAssistant = request.app[KEY_HASS]
        page = idle_page(
            unit.identity.name,
            self._logo,
            f"{IDLE_STATUS_PATH}?{request.query_string}",
            hass.config.language,
            await async_idle_texts(hass),
        )
        return web.Response(text=page, content_type="text/html", headers=NO_STORE)


class DisplayIdleStatusView(HomeAssistantView):
    """``GET /api/makerhub/display/idle/status``: what the idle page shows, live."""

    url = IDLE_STATUS_PATH
    name = "api:makerhub:display:idle:status"
    requires_auth = False  # the idle page's signature authenticates it

    async def get(self, request: web.Request) -> web.Response:
        """Return whether the space is active and the display's name."""
        found = await _async_display(request, PagePurpose.IDLE)
        if isinstance(found, web.Response):
            return found
        runtime, unit = found
        return web.json_response(
            {"display": unit.identity.name, "active": runtime.presence.space_active},
            headers=NO_STORE,
        )


class DisplayDesktopView(HomeAssistantView):
    """``GET /api/makerhub/display/desktop``: to a fresh connect URL of a desktop."""

    url = DESKTOP_PATH
    name = "api:makerhub:display:desktop"
    requires_auth = False  # the signature authenticates it (a kiosk has no login)

    async def get(self, request: web.Request) -> web.Response:
        """Redirect to the desktop's noVNC page (kiosk form) with a new connect token."""
        hass: HomeAssistant = request.app[KEY_HASS]
        project_id = request.query.get("project", "")
        signed_role = request.query.get("role", "")
        subject = desktop_subject(project_id, signed_role)
        found = await _async_display(request, PagePurpose.DESKTOP, subject)
        if isinstance(found, web.Response):
            return found
        runtime, unit = found
        interactive = unit.uid in interactive_displays(runtime.hub.entry)
        role = Role.CONTROLLER if signed_role == Role.CONTROLLER and interactive else Role.VIEWER
        try:
            project = lookup_project(makerhub_data(hass).projects, project_id)
            connect = await runtime.desktops.async_connect(project.id, role)
        except ServiceValidationError:
            display_record(hass).refused_pages["unknown_project"] += 1
            return web.json_response(
                {"message": f"no project {project_id}"}, status=HTTPStatus.NOT_FOUND
            )
        except HomeAssistantError as err:
            return web.json_response({"message": str(err)}, status=HTTPStatus.BAD_GATEWAY)
        raise web.HTTPFound(connect.kiosk_url, headers=NO_STORE)


async def async_register_views(hass: HomeAssistant) -> None:
    """Register the display pages."""
    logo = await hass.async_add_executor_job(LOGO.read_bytes)
    for view in (DisplayIdleView(logo), DisplayIdleStatusView(), DisplayDesktopView()):
        hass.http.register_view(view)
