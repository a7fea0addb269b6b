"""The desktop state sensor counts who is connected, from the real service."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import aiohttp
from homeassistant.auth.models import User
from homeassistant.core import Context, HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.makerhub.const import DOMAIN
from dev.processes.desktops_process import DesktopsServiceProcess
from tests.addons.makerhub_desktops.rfbclient import RfbClient

from .conftest import PROJECT_ID, SENSOR


async def test_viewers_are_an_attribute(
    hass: HomeAssistant,
    desktops_hub: MockConfigEntry,
    service: DesktopsServiceProcess,
    hass_admin_user: User,
) -> None:
    state = hass.states.get(SENSOR)
    assert state.attributes["viewers"] == 0
    assert state.attributes["options"] == ["stopped", "starting", "running", "suspended", "error"]

    answer = await hass.services.async_call(
        DOMAIN,
        "desktop_url",
        {"project": "clock", "role": "viewer"},
        blocking=True,
        return_response=True,
        context=Context(user_id=hass_admin_user.id),
    )
    assert answer is not None
    token = parse_qs(urlsplit(str(answer["url"])).query)["token"][0]
    async with aiohttp.ClientSession() as session:
        viewer = await RfbClient.connect(session, f"{service.url}/websockify?token={token}")
        try:
            await desktops_hub.runtime_data.desktops.coordinator.async_refresh()
            await hass.async_block_till_done()
            state = hass.states.get(SENSOR)
            assert state.state == "running"
            assert (state.attributes["viewers"], state.attributes["controllers"]) == (1, 0)
        finally:
            await viewer.close()
    assert service.call("GET", f"/api/desktops/{PROJECT_ID}")[0] == 200
