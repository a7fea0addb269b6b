"""The desktops options section and the add-on's discovery, against the real service."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_HASSIO
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.makerhub.const import DOMAIN
from custom_components.makerhub.desktops.manager import CONF_DESKTOPS_TOKEN, CONF_DESKTOPS_URL
from custom_components.makerhub.desktops.options import DESKTOPS_TOKEN
from dev.processes.desktops_process import DesktopsServiceProcess
from dev.processes.ports import free_port
from tests.helpers.desktops_service import TOKEN

from .conftest import set_desktops_options


async def test_the_token_is_checked_and_stored_sealed(
    hass: HomeAssistant, hub: MockConfigEntry, service: DesktopsServiceProcess
) -> None:
    result = await set_desktops_options(hass, hub, desktops_url=service.url, desktops_token="wrong")
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "desktops_auth"}
    assert CONF_DESKTOPS_URL not in hub.options

    result = await set_desktops_options(
        hass, hub, desktops_url=service.url + "/", desktops_token=TOKEN
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert hub.options[CONF_DESKTOPS_URL] == service.url
    assert TOKEN not in str(hub.options)
    assert await DESKTOPS_TOKEN.async_stored(hass, hub.options) == TOKEN
    assert hub.runtime_data.desktops.configured

    # The form shows ***; sending it back keeps the stored token.
    result = await set_desktops_options(hass, hub, desktops_url=service.url, desktops_token="***")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert await DESKTOPS_TOKEN.async_stored(hass, hub.options) == TOKEN

    result = await set_desktops_options(hass, hub, desktops_url="")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert (hub.options[CONF_DESKTOPS_URL], hub.options[CONF_DESKTOPS_TOKEN]) == ("", "")
    assert not hub.runtime_data.desktops.configured


async def test_an_unreachable_service_is_refused(
    hass: HomeAssistant, hub: MockConfigEntry, socket_enabled: None
) -> None:
    result = await set_desktops_options(
        hass, hub, desktops_url=f"http://127.0.0.1:{free_port()}", desktops_token=TOKEN
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "desktops_unreachable"}
    assert "cannot be reached" in result["description_placeholders"]["error"]


def discovery(port: int, token: str = TOKEN, uuid: str = "desk-1") -> HassioServiceInfo:
    """The desktops add-on's discovery message, as the Supervisor hands it on."""
    return HassioServiceInfo(
        config={"kind": "desktops", "host": "127.0.0.1", "port": port, "token": token},
        name="Makerhub desktops",
        slug="makerhub_desktops",
        uuid=uuid,
    )


async def test_the_discovered_add_on_is_connected_on_confirmation(
    hass: HomeAssistant, hub: MockConfigEntry, service: DesktopsServiceProcess
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=discovery(service.port)
    )
    assert (result["type"], result["step_id"]) == (FlowResultType.FORM, "hassio_desktops")
    assert result["description_placeholders"] == {"url": service.url}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    assert (result["type"], result["reason"]) == (FlowResultType.ABORT, "desktops_connected")
    assert hub.options[CONF_DESKTOPS_URL] == service.url
    assert hub.options["desktops_addon"] == "makerhub_desktops"  # for its ingress
    assert await DESKTOPS_TOKEN.async_stored(hass, hub.options) == TOKEN
    assert hub.runtime_data.desktops.configured
    # The firmware's settings are untouched by the desktops' discovery.
    assert "firmware_url" not in hub.options or hub.options["firmware_url"] != service.url

    again = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=discovery(service.port, uuid="desk-2")
    )
    assert (again["type"], again["reason"]) == (FlowResultType.ABORT, "already_configured")


async def test_discovery_waits_for_the_hub(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=discovery(8100)
    )
    assert (result["type"], result["reason"]) == (FlowResultType.ABORT, "hub_first")
