"""The dashboards' WebSocket command ``makerhub/fleet_graph`` (any logged-in user: it
shows what the states already show, plus how units are linked)."""

from __future__ import annotations

from typing import Any

from homeassistant.components import websocket_api
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.decorators import async_response, websocket_command
from homeassistant.core import HomeAssistant

from ..runtime import running_runtime
from .graph import async_fleet_graph

ERR_HUB_NOT_LOADED = "hub_not_loaded"


@websocket_command({"type": "makerhub/fleet_graph"})
@async_response
async def ws_fleet_graph(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Answer with the units, their variables and the links of the loaded hub."""
    runtime = running_runtime(hass)
    if runtime is None:
        connection.send_error(msg["id"], ERR_HUB_NOT_LOADED, "the Makerhub hub is not loaded")
        return
    connection.send_result(msg["id"], await async_fleet_graph(hass, runtime.hub))


def async_register_api(hass: HomeAssistant) -> None:
    """Register the dashboards' WebSocket commands."""
    websocket_api.async_register_command(hass, ws_fleet_graph)
