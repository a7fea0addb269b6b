"""The signed pages a display loads without a login: the idle page and its live status,
and the desktop redirect minting a fresh connect token (against the real service)."""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerhub.core.desktops_client import Role
from custom_components.makerhub.core.displays import desktop_page_path, idle_page_path
from custom_components.makerhub.displays.manager import (
    CONF_INTERACTIVE_DISPLAYS,
    async_page_key,
    display_record,
)
from dev.processes.desktops_process import DesktopsServiceProcess
from makerhub_display.agent import MAKERHUB_JSON
from tests.components.makerhub.conftest import unit_subentry
from tests.components.makerhub.desktops.conftest import PROJECT_ID
from tests.components.makerhub.presence.conftest import beacon, post, settle, station

from .conftest import BENCH, LASER, WORKBENCH


async def test_the_idle_page_opens_with_its_signature_only(
    hass: HomeAssistant, hub: MockConfigEntry, hass_client_no_auth: ClientSessionGenerator
) -> None:
    client = await hass_client_no_auth()
    key = await async_page_key(hass)
    path = idle_page_path(key, WORKBENCH)
    answer = await client.get(path)
    assert answer.status == HTTPStatus.OK
    assert answer.headers["Cache-Control"] == "no-store"
    page = await answer.text()
    assert 'data-makerhub-idle="hub"' in page
    assert "Workbench display" in page
    assert "data:image/png;base64,iVBORw0KGgo" in page  # the space's logo, a PNG
    query = urlsplit(path).query
    assert f'"/api/makerhub/display/idle/status?{query}"' in page

    status = await client.get(f"/api/makerhub/display/idle/status?{query}")
    assert status.status == HTTPStatus.OK
    assert await status.json() == {"display": "Workbench display", "active": False}

    # Another display's signature, a made-up one, none: refused and counted.
    sig = parse_qs(query)["sig"][0]
    for refused in (
        f"/api/makerhub/display/idle?display={LASER}&sig={sig}",
        f"/api/makerhub/display/idle?display={WORKBENCH}&sig={'0' * 32}",
        f"/api/makerhub/display/idle?display={WORKBENCH}",
        f"/api/makerhub/display/idle/status?display={LASER}&sig={sig}",
    ):
        answer = await client.get(refused)
        assert answer.status == HTTPStatus.UNAUTHORIZED, refused
    assert display_record(hass).refused_pages == {"bad_signature": 4}

    # A unit the signature names that is no display (any more): not found.
    answer = await client.get(idle_page_path(key, "bbbbbbbbbbbb"))
    assert answer.status == HTTPStatus.NOT_FOUND
    assert display_record(hass).refused_pages["unknown_display"] == 1

    # The hub stopped: Home Assistant answers, the hub does not (the agent then shows its
    # built-in page).
    await hass.config_entries.async_unload(hub.entry_id)
    answer = await client.get(path)
    assert answer.status == HTTPStatus.SERVICE_UNAVAILABLE
    assert BENCH


@pytest.mark.parametrize(
    "hub_subentries",
    [
        [
            unit_subentry(LASER, "Laser display", MAKERHUB_JSON, "display-laser", None),
            station("Bench A", 1),
        ]
    ],
)
async def test_the_idle_status_follows_the_space(
    hass: HomeAssistant,
    alice: str,
    hub: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    kiosk = await hass_client_no_auth()
    status_path = idle_page_path(await async_page_key(hass), LASER).replace(
        "/idle?", "/idle/status?"
    )

    async def active() -> bool:
        answer = await kiosk.get(status_path)
        return bool((await answer.json())["active"])

    assert not await active()
    # Alice arrives at a station with a project: the space is active, and the page says so.
    status, _answer = await post(
        await hass_client(), {"beacon": beacon(1), "distance": 0.8, "project": "robot arm"}
    )
    assert status == HTTPStatus.OK
    await settle(hass, freezer, 2)
    assert hass.states.get("binary_sensor.makerhub_space_active").state == "on"
    assert await active()


async def test_the_desktop_page_redirects_to_a_fresh_connect_url_each_load(
    hass: HomeAssistant,
    desktops_hub: MockConfigEntry,
    service: DesktopsServiceProcess,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    client = await hass_client_no_auth()
    key = await async_page_key(hass)

    async def load(path: str) -> tuple[str, str]:
        """Load the page; return the connect URL and the role the service gives it."""
        answer = await client.get(path, allow_redirects=False)
        assert answer.status == HTTPStatus.FOUND, await answer.text()
        url = answer.headers["Location"]
        assert url.startswith(f"{service.url}/desktop?token=")
        assert parse_qs(urlsplit(url).query)["kiosk"] == ["1"]  # a display: no control bar
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, allow_redirects=False) as page,
        ):
            assert page.status == HTTPStatus.FOUND  # the service's own redirect to noVNC
            novnc = parse_qs(urlsplit(page.headers["Location"]).query)
            assert novnc["kiosk"] == ["1"]  # carried on to noVNC's page
            view_only = novnc["view_only"][0]
        return url, "viewer" if view_only == "1" else "controller"

    viewer = desktop_page_path(key, WORKBENCH, PROJECT_ID, Role.VIEWER)
    first, role = await load(viewer)
    assert role == "viewer"
    second, _role = await load(viewer)
    assert second != first  # a new single-use token on each load

    # Controller only while the display is configured as interactive.
    controller = desktop_page_path(key, WORKBENCH, PROJECT_ID, Role.CONTROLLER)
    assert (await load(controller))[1] == "viewer"
    hass.config_entries.async_update_entry(
        desktops_hub, options={**desktops_hub.options, CONF_INTERACTIVE_DISPLAYS: [WORKBENCH]}
    )
    await hass.async_block_till_done()
    assert (await load(controller))[1] == "controller"

    # The role is signed: a viewer's page asking for controller is refused.
    forged = viewer.replace("role=viewer", "role=controller")
    assert (await client.get(forged, allow_redirects=False)).status == HTTPStatus.UNAUTHORIZED
    # A project deleted since: not found; counted.
    gone = desktop_page_path(key, WORKBENCH, "ffffffffffff", Role.VIEWER)
    assert (await client.get(gone, allow_redirects=False)).status == HTTPStatus.NOT_FOUND
    assert display_record(hass).refused_pages == {"bad_signature": 1, "unknown_project": 1}


async def test_the_desktop_page_without_a_desktops_service(
    hass: HomeAssistant,
    stored_clock: None,
    hub: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    client = await hass_client_no_auth()
    path = desktop_page_path(await async_page_key(hass), WORKBENCH, PROJECT_ID, Role.VIEWER)
    answer = await client.get(path, allow_redirects=False)
    assert answer.status == HTTPStatus.BAD_GATEWAY
    assert "desktops" in (await answer.json())["message"]
