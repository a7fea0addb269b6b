"""The first-run flow: once the hub is set up, each next step is a fixable repair issue
whose fix flow runs the existing options (or station) step; it goes once done."""

from __future__ import annotations

from collections.abc import Iterator

from homeassistant.components.repairs import DOMAIN as REPAIRS_DOMAIN, repairs_flow_manager
from homeassistant.components.repairs.issue_handler import async_process_repairs_platforms
from homeassistant.config_entries import SOURCE_HASSIO
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.makerhub.const import DOMAIN, SUBENTRY_STATION
from custom_components.makerhub.first_run.steps import async_update_next_steps
from dev.processes.recorder_process import RecorderServiceProcess
from tests.components.makerhub.cameras.test_options import discovery
from tests.helpers.recorder_service import TOKEN, recorder_service

UUID = "e2c56db5-dffb-48d2-b060-d0f5a71096e0"


@pytest.fixture
def hub_subentries() -> list[object]:
    """A hub just set up: no units, no stations."""
    return []


def open_steps(hass: HomeAssistant) -> list[str]:
    """Return the next steps offered, as repair issue ids."""
    return sorted(
        issue_id
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and issue_id.startswith("next_step_") and issue.active
    )


async def start_fix(hass: HomeAssistant, issue_id: str) -> dict[str, object]:
    """Open a next step's fix flow and pass its introduction; return its form."""
    assert await async_setup_component(hass, REPAIRS_DOMAIN, {})
    await async_process_repairs_platforms(hass)
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": issue_id})
    assert (result["type"], result["step_id"]) == (FlowResultType.FORM, "confirm")
    return dict(await manager.async_configure(result["flow_id"], {}))


async def configure(
    hass: HomeAssistant, flow_id: str, data: dict[str, object]
) -> dict[str, object]:
    """Submit a fix flow's form."""
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = dict(await manager.async_configure(flow_id, data))
    await hass.async_block_till_done()
    return result


async def test_the_first_steps_are_offered_and_a_station_added(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, hub: MockConfigEntry
) -> None:
    assert open_steps(hass) == [
        "next_step_firmware",
        "next_step_station",
        "next_step_telemetry",
    ]
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "next_step_station")
    assert issue is not None
    assert issue.is_fixable
    assert issue.severity is ir.IssueSeverity.WARNING

    form = await start_fix(hass, "next_step_station")
    assert (form["type"], form["step_id"]) == (FlowResultType.FORM, "user")
    station = {"name": "Bench", "uuid": UUID.upper(), "major": 1, "minor": 2, "measured_power": -59}
    bad = await configure(hass, str(form["flow_id"]), {**station, "name": " "})
    assert bad["errors"] == {"name": "invalid_name"}
    done = await configure(hass, str(form["flow_id"]), station)
    assert done["type"] is FlowResultType.CREATE_ENTRY
    (added,) = [s for s in hub.subentries.values() if s.subentry_type == SUBENTRY_STATION]
    assert added.title == "Bench"
    assert added.data["uuid"] == UUID  # saved as the station's own step saves it
    assert open_steps(hass) == ["next_step_firmware", "next_step_telemetry"]


async def test_telemetry_is_offered_with_the_options_step(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, hub: MockConfigEntry
) -> None:
    """The options step's checks hold in the repair; leaving the URL empty keeps
    telemetry off, so the step is offered again."""
    form = await start_fix(hass, "next_step_telemetry")
    assert (form["type"], form["step_id"]) == (FlowResultType.FORM, "telemetry")
    fields = {"telemetry_retention_days": 30, "telemetry_rollups": True}
    bad = await configure(hass, str(form["flow_id"]), {"telemetry_dsn": "mysql://x", **fields})
    assert bad["errors"] == {"telemetry_dsn": "invalid_dsn"}
    done = await configure(hass, str(form["flow_id"]), {"telemetry_dsn": "", **fields})
    assert done["type"] is FlowResultType.CREATE_ENTRY
    assert hub.options["telemetry_retention_days"] == 30
    assert "next_step_telemetry" in open_steps(hass)


@pytest.fixture
def service(socket_enabled: None) -> Iterator[RecorderServiceProcess]:
    """The real recorder service."""
    with recorder_service() as running:
        yield running


async def test_a_found_add_on_is_offered_until_connected(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
    service: RecorderServiceProcess,
) -> None:
    assert "next_step_recorder" not in open_steps(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=discovery(service.port)
    )
    assert result["step_id"] == "hassio_recorder"
    await hass.async_block_till_done()
    assert "next_step_recorder" in open_steps(hass)
    assert "next_step_desktops" not in open_steps(hass)

    form = await start_fix(hass, "next_step_recorder")
    assert (form["type"], form["step_id"]) == (FlowResultType.FORM, "cameras")
    done = await configure(
        hass, str(form["flow_id"]), {"recorder_url": service.url, "recorder_token": TOKEN}
    )
    assert done["type"] is FlowResultType.CREATE_ENTRY
    assert hub.options["recorder_url"] == service.url
    assert hub.runtime_data.cameras.configured
    assert "next_step_recorder" not in open_steps(hass)
    assert async_update_next_steps(hass, hub) == ["firmware", "telemetry", "station"]
