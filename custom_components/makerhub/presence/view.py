"""``POST /api/makerhub/presence``: a custom app reports its person's nearest beacon.

The report goes to the loaded hub's presence (``manager.py``); without a loaded hub the
endpoint answers 503.
"""

from __future__ import annotations

from http import HTTPStatus
import json
from typing import Final

from aiohttp import web
from homeassistant.components.http.const import KEY_HASS_USER
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView

from ..const import HUB_NOT_RUNNING
from ..core.presence import PresenceInputError
from ..runtime import running_runtime
from .manager import person_of_user

MAX_BODY: Final = 4096


class PresenceReportView(HomeAssistantView):
    """``POST /api/makerhub/presence``: a custom app reports its person's nearest beacon."""

    url = "/api/makerhub/presence"
    name = "api:makerhub:presence"
    requires_auth = True

    async def post(self, request: web.Request) -> web.Response:
        """Take the report of the person linked to the token's user."""
        hass: HomeAssistant = request.app[KEY_HASS]
        user = request[KEY_HASS_USER]
        runtime = running_runtime(hass)
        if runtime is None:
            return self.json_message(HUB_NOT_RUNNING, HTTPStatus.SERVICE_UNAVAILABLE)
        presence = runtime.presence
        person = person_of_user(hass, user.id)
        if person is None:
            return self.json_message(
                f"user {user.name} is linked to no person (Settings → People)",
                HTTPStatus.FORBIDDEN,
            )
        raw = await request.content.read(MAX_BODY + 1)
        if len(raw) > MAX_BODY:
            return self.json_message(f"the body is over {MAX_BODY} bytes", HTTPStatus.BAD_REQUEST)
        try:
            body = json.loads(raw)
        except ValueError:
            return self.json_message("the body is not JSON", HTTPStatus.BAD_REQUEST)
        try:
            presence.report(person, body)
        except PresenceInputError as err:
            return self.json_message(str(err), HTTPStatus.BAD_REQUEST)
        current = presence.engine.person(person)
        station = None if current is None else current.station
        return self.json({"person": person, "station": presence.station_name(station)})
