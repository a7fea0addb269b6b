"""Connect URLs through the desktops add-on's ingress.

Without a Supervisor the ingress proxy itself cannot run here: the URL building, the
choice between ingress and the service's own address, and the Supervisor's answer (its
client replaced by a stand-in) are tested; the desktops service is the real one.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock, MagicMock, patch

from aiohasupervisor import SupervisorError
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, WebSocketGenerator

from custom_components.makerhub.desktops.ingress import (
    CONF_DESKTOPS_ADDON,
    IngressError,
    addon_hostname,
    async_ingress_entry,
    ingress_addon,
    ingress_url,
)
from custom_components.makerhub.desktops.manager import CONF_DESKTOPS_URL
from dev.processes.desktops_process import DesktopsServiceProcess
from tests.helpers.desktops_service import TOKEN

from .conftest import PROJECT_ID, set_desktops_options

ENTRY = "/api/hassio_ingress/Qx9-token"


def test_the_ingress_url_is_the_path_under_the_entry() -> None:
    assert ingress_url(ENTRY, "desktop?token=abc") == f"{ENTRY}/desktop?token=abc"
    assert ingress_url(ENTRY + "/", "/desktop?token=abc") == f"{ENTRY}/desktop?token=abc"
    for bad in ("/api/hassio/addons", "http://elsewhere/api/hassio_ingress/x", f"{ENTRY}?a=b"):
        with pytest.raises(IngressError, match="not an ingress entry"):
            ingress_url(bad, "desktop?token=abc")


def test_ingress_only_for_the_discovered_add_on_under_a_supervisor() -> None:
    assert addon_hostname("a0d7b954_makerhub_desktops") == "a0d7b954-makerhub-desktops"
    options = {
        CONF_DESKTOPS_URL: "http://a0d7b954-makerhub-desktops:8100",
        CONF_DESKTOPS_ADDON: "a0d7b954_makerhub_desktops",
    }
    assert ingress_addon(options, supervised=True) == "a0d7b954_makerhub_desktops"
    assert ingress_addon(options, supervised=False) is None
    # Pointed elsewhere since the discovery: the service's own address.
    moved = {**options, CONF_DESKTOPS_URL: "http://192.168.1.5:8100"}
    assert ingress_addon(moved, supervised=True) is None
    assert ingress_addon({CONF_DESKTOPS_URL: "http://x:1"}, supervised=True) is None
    assert ingress_addon({CONF_DESKTOPS_ADDON: "x"}, supervised=True) is None


@pytest.fixture
def supervisor() -> Iterator[MagicMock]:
    """The Supervisor's client, as a stand-in (there is no Supervisor here)."""
    client = MagicMock()
    client.addons.addon_info = AsyncMock(return_value=SimpleNamespace(ingress_entry=ENTRY))
    with patch(
        "homeassistant.components.hassio.handler.get_supervisor_client", return_value=client
    ):
        yield client


async def test_the_supervisor_gives_the_entry(hass: HomeAssistant, supervisor: MagicMock) -> None:
    assert await async_ingress_entry(hass, "local_makerhub_desktops") == ENTRY
    supervisor.addons.addon_info.assert_awaited_with("local_makerhub_desktops")
    supervisor.addons.addon_info.return_value = SimpleNamespace(ingress_entry=None)
    with pytest.raises(IngressError, match="has no ingress"):
        await async_ingress_entry(hass, "local_makerhub_desktops")
    supervisor.addons.addon_info.side_effect = SupervisorError("addon is not installed")
    with pytest.raises(IngressError, match="addon is not installed"):
        await async_ingress_entry(hass, "local_makerhub_desktops")


@pytest.fixture
async def addon_hub(
    hass: HomeAssistant,
    mqtt_mock: Any,
    clock_project: str,
    hub: MockConfigEntry,
    service: DesktopsServiceProcess,
) -> MockConfigEntry:
    """The hub using the real service as if it were an add-on whose host name is the
    service's (``127.0.0.1``: no name to resolve), under a Supervisor."""
    result = await set_desktops_options(hass, hub, desktops_url=service.url, desktops_token=TOKEN)
    assert result["type"] == "create_entry"
    hass.config_entries.async_update_entry(
        hub, options={**hub.options, CONF_DESKTOPS_ADDON: "127.0.0.1"}
    )
    await hass.async_block_till_done()
    # Diagnostics set up first: with "hassio" marked loaded it would wait for it.
    assert await async_setup_component(hass, "diagnostics", {})
    hass.config.components.add("hassio")
    return hub


async def test_the_panel_connects_through_ingress(
    hass: HomeAssistant,
    addon_hub: MockConfigEntry,
    supervisor: MagicMock,
    hass_ws_client: WebSocketGenerator,
    hass_client: ClientSessionGenerator,
) -> None:
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "makerhub/desktops/connect", "project": "clock"})
    answer = await client.receive_json()
    result = answer["result"]
    assert result["ingress"] is True
    assert result["role"] == "controller"
    assert result["project"] == PROJECT_ID
    assert result["url"].startswith(f"{ENTRY}/desktop?token=")

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, addon_hub)
    assert diagnostics["desktops"]["ingress_addon"] == "127.0.0.1"

    supervisor.addons.addon_info.side_effect = SupervisorError("the Supervisor is restarting")
    await client.send_json_auto_id({"type": "makerhub/desktops/connect", "project": "clock"})
    answer = await client.receive_json()
    assert answer["error"]["translation_key"] == "desktop_failed"
    assert "the Supervisor is restarting" in answer["error"]["message"]
