"""What a unit needs to connect, over Home Assistant's authenticated HTTP API.

``GET /api/makerhub/units/<uid>/env.json`` returns the unit's connection settings: its id,
the broker units reach (from the hub's settings) and its own broker credentials.
``GET /api/makerhub/units/<uid>/schema.json`` returns its current ``schema.json`` (links
included). Both carry secrets or topology, so only administrators may read them.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aiohttp import web
from homeassistant.components.http.const import KEY_HASS_USER
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView

from .const import (
    CONF_UNIT_BROKER_HOST,
    CONF_UNIT_BROKER_PORT,
    CONF_UNIT_BROKER_TLS,
    DEFAULT_UNIT_BROKER_PORT,
    DOMAIN,
)
from .hub import MakerhubHub


def unit_env(hub: MakerhubHub, uid: str) -> dict[str, Any]:
    """Return a unit's ``env.json`` (its broker credentials when the hub has them)."""
    data = hub.entry.data
    env: dict[str, Any] = {
        "MH_UNIT_ID": uid,
        "MH_MQTT_HOST": data.get(CONF_UNIT_BROKER_HOST, ""),
        "MH_MQTT_PORT": data.get(CONF_UNIT_BROKER_PORT, DEFAULT_UNIT_BROKER_PORT),
        "MH_MQTT_TLS": data.get(CONF_UNIT_BROKER_TLS, False),
    }
    if hub.broker_access is not None:
        env.update(hub.broker_access.env(uid))
    return env


class UnitFileView(HomeAssistantView):
    """A unit's ``env.json`` or ``schema.json``, for administrators."""

    url = "/api/makerhub/units/{uid}/{name}"
    name = "api:makerhub:units:file"

    async def get(self, request: web.Request, uid: str, name: str) -> web.Response:
        """Return the file, or 403/404/503 saying why not."""
        hass = request.app[KEY_HASS]
        if not request[KEY_HASS_USER].is_admin:
            return self.json_message(
                "only administrators may read unit files", HTTPStatus.FORBIDDEN
            )
        entries = hass.config_entries.async_loaded_entries(DOMAIN)
        if not entries:
            return self.json_message(
                "the Makerhub hub is not running", HTTPStatus.SERVICE_UNAVAILABLE
            )
        hub: MakerhubHub = entries[0].runtime_data
        unit = hub.units.get(uid)
        if unit is None:
            return self.json_message(f"no unit {uid}", HTTPStatus.NOT_FOUND)
        if name == "env.json":
            return self.json(unit_env(hub, uid))
        if name == "schema.json":
            return self.json(hub.schema_json(unit))
        return self.json_message("env.json or schema.json", HTTPStatus.NOT_FOUND)
