"""The Desktops panel's server side against the real service: the sidebar entry and its
files, and the WebSocket commands with the roles the server decides (a non-owner never
gets a controller URL, whatever it asks for)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from homeassistant.auth.models import User
from homeassistant.components.frontend import DATA_PANELS
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    MqttMockHAClient,
    WebSocketGenerator,
)

from custom_components.makerhub.data import makerhub_data
from custom_components.makerhub.desktops.panel import PANEL_PATH
from dev.processes.desktops_process import DesktopsServiceProcess

from .conftest import PROJECT_ID


@pytest.fixture
async def frontend(hass: HomeAssistant) -> None:
    """Home Assistant's frontend, set up before the hub (as with ``default_config``)."""
    assert await async_setup_component(hass, "frontend", {})


async def ws(client: Any, message: dict[str, Any]) -> dict[str, Any]:
    """Send one command; return the whole answer (result or error)."""
    await client.send_json_auto_id(message)
    answer: dict[str, Any] = await client.receive_json()
    return answer


async def test_the_panel_is_in_the_sidebar_while_a_service_is_set_up(
    hass: HomeAssistant,
    frontend: None,
    desktops_hub: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
    hass_client: ClientSessionGenerator,
) -> None:
    panels = hass.data[DATA_PANELS]
    panel = panels[PANEL_PATH]
    assert panel.sidebar_title == "Desktops"
    assert panel.sidebar_icon == "mdi:monitor"
    assert panel.component_name == "custom"
    assert not panel.require_admin
    custom = panel.config["_panel_custom"]
    assert custom["name"] == "makerhub-desktops-panel"
    assert custom["module_url"].startswith("/makerhub_static/desktops/desktops-panel.js?v=")
    # A user who is no admin sees it too.
    client = await hass_ws_client(hass, hass_read_only_access_token)
    answer = await ws(client, {"type": "get_panels"})
    assert PANEL_PATH in answer["result"]

    # Its module is served.
    http = await hass_client()
    response = await http.get(custom["module_url"])
    assert response.status == HTTPStatus.OK
    assert 'customElements.define("makerhub-desktops-panel"' in await response.text()

    assert await hass.config_entries.async_unload(desktops_hub.entry_id)
    assert PANEL_PATH not in panels


async def test_no_panel_without_a_service(
    hass: HomeAssistant, frontend: None, mqtt_mock: MqttMockHAClient, hub: MockConfigEntry
) -> None:
    assert PANEL_PATH not in hass.data[DATA_PANELS]


async def test_no_panel_without_the_frontend(
    hass: HomeAssistant, desktops_hub: MockConfigEntry
) -> None:
    assert "frontend" not in hass.config.components
    assert PANEL_PATH not in hass.data.get(DATA_PANELS, {})


async def test_the_list_shows_ones_own_projects_and_an_admin_every_project(
    hass: HomeAssistant,
    desktops_hub: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_user: User,
    hass_read_only_access_token: str,
) -> None:
    admin = await hass_ws_client(hass)
    answer = await ws(admin, {"type": "makerhub/desktops/list"})
    assert answer["result"] == {
        "configured": True,
        "available": True,
        "desktops": [
            {
                "project": PROJECT_ID,
                "slug": "clock",
                "name": "Clock",
                "state": "stopped",
                "viewers": 0,
                "controllers": 0,
                "error": None,
                "may_control": True,
            }
        ],
    }
    other = await hass_ws_client(hass, hass_read_only_access_token)
    answer = await ws(other, {"type": "makerhub/desktops/list"})
    assert answer["result"]["desktops"] == []  # not theirs

    projects = makerhub_data(hass).projects
    lamp = projects.saved(projects.registry.create({"name": "Lamp"}, hass_read_only_user.id))
    archived = projects.registry.create({"name": "Old"}, hass_read_only_user.id)
    projects.saved(projects.registry.archive(archived.id))
    answer = await ws(other, {"type": "makerhub/desktops/list"})
    assert [(d["name"], d["may_control"]) for d in answer["result"]["desktops"]] == [("Lamp", True)]
    answer = await ws(admin, {"type": "makerhub/desktops/list"})
    assert [d["project"] for d in answer["result"]["desktops"]] == [PROJECT_ID, lamp.id]


async def test_the_owner_connects_as_controller(
    hass: HomeAssistant,
    desktops_hub: MockConfigEntry,
    service: DesktopsServiceProcess,
    hass_ws_client: WebSocketGenerator,
) -> None:
    admin = await hass_ws_client(hass)
    answer = await ws(admin, {"type": "makerhub/desktops/connect", "project": "clock"})
    result = answer["result"]
    assert result["role"] == "controller"
    assert result["project"] == PROJECT_ID
    assert result["url"].startswith(f"{service.url}/desktop?token=")
    assert result["ingress"] is False
    # The desktop was started for it, and the list says so.
    listed = await ws(admin, {"type": "makerhub/desktops/list"})
    assert listed["result"]["desktops"][0]["state"] == "running"
    # One may also ask to watch only.
    answer = await ws(
        admin, {"type": "makerhub/desktops/connect", "project": PROJECT_ID, "role": "viewer"}
    )
    assert answer["result"]["role"] == "viewer"


async def test_others_only_ever_watch(
    hass: HomeAssistant,
    desktops_hub: MockConfigEntry,
    service: DesktopsServiceProcess,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    other = await hass_ws_client(hass, hass_read_only_access_token)
    answer = await ws(other, {"type": "makerhub/desktops/connect", "project": "clock"})
    assert answer["result"]["role"] == "viewer"
    token = answer["result"]["url"].split("token=")[1]
    status, _ = await service_connect_role(service, token)
    assert status == "viewer"

    answer = await ws(
        other, {"type": "makerhub/desktops/connect", "project": "clock", "role": "controller"}
    )
    assert not answer["success"]
    assert answer["error"]["code"] == "unauthorized"

    # Starting is for anyone, stopping for the owner and admins.
    answer = await ws(other, {"type": "makerhub/desktops/start", "project": "clock"})
    assert answer["result"]["state"] == "running"
    assert answer["result"]["may_control"] is False
    answer = await ws(other, {"type": "makerhub/desktops/stop", "project": "clock"})
    assert answer["error"]["code"] == "unauthorized"
    admin = await hass_ws_client(hass)
    answer = await ws(admin, {"type": "makerhub/desktops/stop", "project": "clock"})
    assert answer["result"]["state"] == "stopped"


async def service_connect_role(service: DesktopsServiceProcess, token: str) -> tuple[str, Any]:
    """Return the role the service holds for a connect token (its page redirects with
    ``view_only`` set by the role)."""
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{service.url}/desktop", params={"token": token}, allow_redirects=False
        ) as response,
    ):
        location = response.headers["Location"]
    return ("viewer" if "view_only=1" in location else "controller"), location


async def test_bad_requests(
    hass: HomeAssistant, desktops_hub: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    admin = await hass_ws_client(hass)
    answer = await ws(admin, {"type": "makerhub/desktops/connect", "project": "nothing"})
    assert answer["error"]["code"] == "home_assistant_error"
    assert answer["error"]["translation_key"] == "unknown_project"
    answer = await ws(
        admin, {"type": "makerhub/desktops/connect", "project": "clock", "role": "owner"}
    )
    assert answer["error"]["code"] == "invalid_format"


async def test_without_a_service(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    admin = await hass_ws_client(hass)
    answer = await ws(admin, {"type": "makerhub/desktops/list"})
    assert answer["result"] == {"configured": False, "available": False, "desktops": []}
    answer = await ws(admin, {"type": "makerhub/desktops/start", "project": "x"})
    assert answer["error"]["translation_key"] == "desktops_not_configured"
    assert await hass.config_entries.async_unload(hub.entry_id)
    answer = await ws(admin, {"type": "makerhub/desktops/list"})
    assert answer["result"]["configured"] is False
    answer = await ws(admin, {"type": "makerhub/desktops/connect", "project": "x"})
    assert answer["error"]["translation_key"] == "hub_not_loaded"
