"""The cameras' options step (the recorder's URL and sealed token, checked with the real
service) and the recorder add-on's discovery."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_HASSIO
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.makerhub.cameras.manager import CONF_RECORDER_TOKEN, CONF_RECORDER_URL
from custom_components.makerhub.cameras.options import RECORDER_TOKEN
from custom_components.makerhub.const import DOMAIN
from dev.processes.ports import free_port
from dev.processes.recorder_process import RecorderServiceProcess
from tests.helpers.recorder_service import TOKEN

from .conftest import set_recorder_options


async def test_the_token_is_checked_and_stored_sealed(
    hass: HomeAssistant, hub: MockConfigEntry, service: RecorderServiceProcess
) -> None:
    refused = await set_recorder_options(
        hass, hub, recorder_url=service.url, recorder_token="wrong-token-0123456789"
    )
    assert refused["type"] is FlowResultType.FORM
    assert refused["errors"] == {"base": "recorder_auth"}

    result = await set_recorder_options(hass, hub, recorder_url=service.url, recorder_token=TOKEN)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert hub.options[CONF_RECORDER_URL] == service.url
    assert TOKEN not in str(hub.options[CONF_RECORDER_TOKEN])
    assert await RECORDER_TOKEN.async_stored(hass, hub.options) == TOKEN
    assert hub.runtime_data.cameras.configured


async def test_an_unreachable_service_is_refused(
    hass: HomeAssistant, hub: MockConfigEntry, socket_enabled: None
) -> None:
    result = await set_recorder_options(
        hass, hub, recorder_url=f"http://127.0.0.1:{free_port()}", recorder_token=TOKEN
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "recorder_unreachable"}
    assert "cannot be reached" in result["description_placeholders"]["error"]


def discovery(port: int, uuid: str = "rec-1") -> HassioServiceInfo:
    """The recorder add-on's discovery message, as the Supervisor hands it on."""
    return HassioServiceInfo(
        config={"kind": "recorder", "host": "127.0.0.1", "port": port, "token": TOKEN},
        name="Makerhub recorder",
        slug="makerhub_recorder",
        uuid=uuid,
    )


async def test_the_discovered_add_on_is_connected_on_confirmation(
    hass: HomeAssistant, hub: MockConfigEntry, service: RecorderServiceProcess
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=discovery(service.port)
    )
    assert (result["type"], result["step_id"]) == (FlowResultType.FORM, "hassio_recorder")
    assert result["description_placeholders"] == {"url": service.url}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    assert (result["type"], result["reason"]) == (FlowResultType.ABORT, "recorder_connected")
    assert hub.options[CONF_RECORDER_URL] == service.url
    assert await RECORDER_TOKEN.async_stored(hass, hub.options) == TOKEN
    assert hub.runtime_data.cameras.configured
    assert "desktops_url" not in hub.options

    again = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=discovery(service.port, uuid="rec-2")
    )
    assert (again["type"], again["reason"]) == (FlowResultType.ABORT, "already_configured")
