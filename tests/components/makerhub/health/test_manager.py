"""Health in Home Assistant: a silent unit's problem, restarts with backoff and the repair
that starts them over, the broker as the single root cause, the summary, the test alert,
system health, diagnostics and the per-item timing option."""

from __future__ import annotations

from datetime import timedelta
import json
from types import SimpleNamespace
from unittest.mock import AsyncMock, MagicMock, patch

# Imported before a test freezes the clock: their dataclasses are compiled with the
# real datetime (mashumaro fails on freezegun's).
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.mqtt import config_flow as _mqtt_flow  # noqa: F401
from homeassistant.components.mqtt.const import MQTT_CONNECTION_STATE
from homeassistant.components.repairs import DOMAIN as REPAIRS_DOMAIN, repairs_flow_manager
from homeassistant.components.repairs.issue_handler import async_process_repairs_platforms
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_mqtt_message,
    async_fire_time_changed,
    get_system_health_info,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    MqttMockHAClient,
)

from custom_components.makerhub.const import DOMAIN
from custom_components.makerhub.core.health import ItemSpec
from custom_components.makerhub.health.manager import (
    EVENT_HEALTH_PROBLEM,
    EVENT_HEALTH_RECOVERED,
    ISSUE_DATABASE,
    ISSUE_UNRESPONSIVE,
    HealthItem,
    HubHealth,
    addon_slug,
    async_restart_addon,
)
from tests.components.makerhub.conftest import UID, bring_online, state_payload, unit_subentry

PROBLEM = "binary_sensor.bench_health_problem"
BROKER = "binary_sensor.makerhub_broker_problem"
SUMMARY = "sensor.makerhub_healthy_items"
TEST_BUTTON = "button.makerhub_send_test_alert"
SECOND_UID = "ba9876543210"


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    """Move the frozen clock on and run what became due."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def restarts_sent(mqtt_mock: MqttMockHAClient, uid: str = UID) -> int:
    """Return how many restart commands were published to a unit."""
    return sum(
        1
        for call in mqtt_mock.async_publish.call_args_list
        if call.args[0] == f"makerhub/{uid}/sys/cmd"
        and json.loads(call.args[1]).get("cmd") == "restart"
    )


async def test_a_silent_unit_is_restarted_with_backoff_then_repaired(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
) -> None:
    problems = async_capture_events(hass, EVENT_HEALTH_PROBLEM)
    recovered = async_capture_events(hass, EVENT_HEALTH_RECOVERED)
    await bring_online(hass)
    assert hass.states.get(PROBLEM).state == "off"
    assert hass.states.get(PROBLEM).attributes["status"] == "healthy"
    assert hass.states.get(PROBLEM).attributes["period"] == 30
    await advance(hass, freezer, 59)
    assert hass.states.get(PROBLEM).state == "off"
    await advance(hass, freezer, 1.5)
    state = hass.states.get(PROBLEM)
    assert state.state == "on"
    assert state.attributes["root_cause"] == f"unit:{UID}"
    assert state.attributes["restarts"] == 1
    assert len(problems) == 1
    assert problems[0].data["item"] == f"unit:{UID}"
    assert problems[0].data["root_cause"] == f"unit:{UID}"
    assert problems[0].data["kind"] == "unit"
    assert problems[0].data["test"] is False
    assert "no heartbeat" in problems[0].data["message"]
    assert restarts_sent(mqtt_mock) == 1
    await advance(hass, freezer, 60)
    assert restarts_sent(mqtt_mock) == 2
    issues = ir.async_get(hass)
    assert issues.async_get_issue(DOMAIN, f"{ISSUE_UNRESPONSIVE}_unit:{UID}") is None
    await advance(hass, freezer, 300)
    assert restarts_sent(mqtt_mock) == 3
    assert hass.states.get(PROBLEM).attributes["next_restart"] is None
    await advance(hass, freezer, 3600)
    assert restarts_sent(mqtt_mock) == 3  # the limit
    assert len(problems) == 1
    issue_id = f"{ISSUE_UNRESPONSIVE}_unit:{UID}"
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.is_fixable

    assert await async_setup_component(hass, REPAIRS_DOMAIN, {})
    await async_process_repairs_platforms(hass)
    flow_manager = repairs_flow_manager(hass)
    assert flow_manager is not None
    result = await flow_manager.async_init(DOMAIN, data={"issue_id": issue_id})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "confirm"
    result = await flow_manager.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert restarts_sent(mqtt_mock) == 4
    assert issues.async_get_issue(DOMAIN, issue_id) is None

    async_fire_mqtt_message(hass, f"makerhub/{UID}/sys/state", state_payload())
    await hass.async_block_till_done()
    assert hass.states.get(PROBLEM).state == "off"
    assert len(recovered) == 1
    assert recovered[0].data["item"] == f"unit:{UID}"
    assert recovered[0].data["down_for"] > 3600


async def test_an_offline_unit_is_a_problem_at_once_and_not_restarted(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, hub: MockConfigEntry
) -> None:
    problems = async_capture_events(hass, EVENT_HEALTH_PROBLEM)
    await bring_online(hass)
    async_fire_mqtt_message(hass, f"makerhub/{UID}/sys/status", "offline")
    await hass.async_block_till_done()
    assert hass.states.get(PROBLEM).state == "on"
    assert hass.states.get(PROBLEM).attributes["message"] == "Bench: it reported offline"
    assert [e.data["item"] for e in problems] == [f"unit:{UID}"]
    assert restarts_sent(mqtt_mock) == 0


@pytest.mark.parametrize(
    "hub_subentries",
    [[unit_subentry(), unit_subentry(SECOND_UID, "Lathe", announce_id="lathe")]],
)
async def test_the_broker_is_the_one_root_cause(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
) -> None:
    problems = async_capture_events(hass, EVENT_HEALTH_PROBLEM)
    recovered = async_capture_events(hass, EVENT_HEALTH_RECOVERED)
    await bring_online(hass)
    await bring_online(hass, SECOND_UID)
    # The broker, two units and Home Assistant itself.
    assert hass.states.get(SUMMARY).state == "4"
    assert hass.states.get(SUMMARY).attributes["summary"] == "4 of 4 healthy"

    async_dispatcher_send(hass, MQTT_CONNECTION_STATE, False)
    await hass.async_block_till_done()
    assert hass.states.get(BROKER).state == "on"
    assert [e.data["item"] for e in problems] == ["broker"]
    assert problems[0].data["message"] == "Broker: the MQTT connection is lost"
    unit = hass.states.get(PROBLEM)
    assert unit.state == "on"
    assert unit.attributes["status"] == "down_because"
    assert unit.attributes["root_cause"] == "broker"
    await advance(hass, freezer, 600)  # the units' heartbeats are late too: no alerts
    assert [e.data["item"] for e in problems] == ["broker"]
    assert restarts_sent(mqtt_mock) == 0
    summary = hass.states.get(SUMMARY)
    assert summary.state == "1"  # Home Assistant
    assert summary.attributes["root_causes"] == ["Broker"]
    assert sorted(summary.attributes["down_because"]) == ["Bench", "Lathe"]

    async_dispatcher_send(hass, MQTT_CONNECTION_STATE, True)
    await hass.async_block_till_done()
    assert [e.data["item"] for e in recovered] == ["broker"]
    assert hass.states.get(PROBLEM).state == "off"  # judged afresh
    await bring_online(hass)
    await bring_online(hass, SECOND_UID)
    assert hass.states.get(SUMMARY).state == "4"
    assert [e.data["item"] for e in problems] == ["broker"]


async def test_test_alert_system_health_and_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
) -> None:
    problems = async_capture_events(hass, EVENT_HEALTH_PROBLEM)
    await hass.services.async_call("button", "press", {"entity_id": TEST_BUTTON}, blocking=True)
    assert len(problems) == 1
    assert problems[0].data["test"] is True
    assert problems[0].data["kind"] == "test"

    assert await async_setup_component(hass, "system_health", {})
    await hass.async_block_till_done()
    info = await get_system_health_info(hass, DOMAIN)
    assert info["hub"] == "running"
    assert info["healthy"] == "2 of 3"  # the unit is pending: never heard from
    assert info["broker"] == "healthy"
    assert info["telemetry_database"] == "not set up"
    assert info["recorder_service"] == "not set up"

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, hub)
    items = diagnostics["health"]["items"]
    assert items[f"unit:{UID}"]["status"] == "pending"
    assert items[f"unit:{UID}"]["parent"] == "broker"
    assert items["broker"]["status"] == "healthy"

    broker_up = hass.states.get("sensor.makerhub_broker_up_since")
    assert broker_up is not None
    assert broker_up.state != "unknown"
    assert hass.states.get("sensor.makerhub_broker_last_failure").state == "unknown"


async def test_system_health_without_a_hub(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, "system_health", {})
    assert await async_setup_component(hass, DOMAIN, {})
    info = await get_system_health_info(hass, DOMAIN)
    assert info == {"hub": "not loaded"}


async def test_timing_per_item_from_the_options(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
) -> None:
    result = await hass.config_entries.options.async_init(hub.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "health"}
    )
    assert result["step_id"] == "health"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"item": f"unit:{UID}", "period": 5, "grace": 2}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert hub.options["health_timing"] == {f"unit:{UID}": {"period": 5, "grace": 2.0}}
    problems = async_capture_events(hass, EVENT_HEALTH_PROBLEM)
    await bring_online(hass)
    assert hass.states.get(PROBLEM).attributes["period"] == 5
    await advance(hass, freezer, 7.5)
    assert hass.states.get(PROBLEM).state == "on"
    assert len(problems) == 1

    result = await hass.config_entries.options.async_init(hub.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "health"}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"item": f"unit:{UID}"}
    )
    await hass.async_block_till_done()
    assert hub.options["health_timing"] == {}


async def test_a_removed_unit_takes_its_item_and_entity(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, hub: MockConfigEntry
) -> None:
    registry = er.async_get(hass)
    assert registry.async_get(PROBLEM) is not None
    subentry_id = next(iter(hub.subentries))
    hass.config_entries.async_remove_subentry(hub, subentry_id)
    await hass.async_block_till_done()
    assert registry.async_get(PROBLEM) is None
    assert hub.runtime_data.health.health(f"unit:{UID}") is None
    assert hass.states.get(SUMMARY).attributes["total"] == 2  # the broker, Home Assistant

    stored = unit_subentry()
    hass.config_entries.async_add_subentry(
        hub,
        ConfigSubentry(
            data=stored["data"],
            subentry_type=stored["subentry_type"],
            title=stored["title"],
            unique_id=stored["unique_id"],
        ),
    )
    await hass.async_block_till_done()
    assert hub.runtime_data.health.health(f"unit:{UID}") is not None
    assert registry.async_get(PROBLEM) is not None


async def test_the_database_and_a_restartable_add_on(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, hub: MockConfigEntry
) -> None:
    """The database's item follows the writer's connection (its repair issue with it);
    an add-on is restarted through the Supervisor."""
    connected = {"now": True}
    coordinator: DataUpdateCoordinator[int] = DataUpdateCoordinator(
        hass, MagicMock(), config_entry=hub, name="counters", update_method=AsyncMock()
    )
    # A second health of the same Home Assistant: the first's run is over, cleanly.
    hub.runtime_data.health.hass_run.async_stop()
    await hass.async_block_till_done()
    health = HubHealth(
        hass,
        hub,
        hub.runtime_data.hub,
        telemetry_connected=lambda: connected["now"],
        telemetry_coordinator=coordinator,
        firmware=None,
        firmware_env=None,
        desktops=None,
    )
    await health.async_start()
    problems = async_capture_events(hass, EVENT_HEALTH_PROBLEM)
    assert health.health("telemetry_database").status == "healthy"
    connected["now"] = False
    coordinator.async_set_updated_data(1)
    await hass.async_block_till_done()
    issues = ir.async_get(hass)
    assert health.health("telemetry_database").status == "healthy"  # within its grace
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, ISSUE_DATABASE) is not None
    assert [e.data["item"] for e in problems] == ["telemetry_database"]
    connected["now"] = True
    coordinator.async_set_updated_data(2)
    assert issues.async_get_issue(DOMAIN, ISSUE_DATABASE) is None

    assert addon_slug("http://local-makerhub-firmware:8099") == "local_makerhub_firmware"
    assert addon_slug("http://127.0.0.1:8099") is None
    assert addon_slug("http://localhost:8099") is None
    assert addon_slug("http://firmware.example.org") is None
    assert not await async_restart_addon(hass, "local_makerhub_firmware")  # no Supervisor

    client = MagicMock()
    client.addons.restart_addon = AsyncMock()
    hass.config.components.add("hassio")
    with patch(
        "homeassistant.components.hassio.handler.get_supervisor_client", return_value=client
    ):

        async def restart() -> bool:
            return await async_restart_addon(hass, "local_makerhub_firmware")

        health.register(
            HealthItem(
                ItemSpec("firmware_service", "Firmware service", "service", restartable=True),
                restart=restart,
            )
        )
        health.report("firmware_service", False, "cannot be reached")
        await hass.async_block_till_done()
    client.addons.restart_addon.assert_awaited_once_with("local_makerhub_firmware")
    assert health.health("firmware_service").restarts == 1
    health.async_stop()


async def test_a_crash_looping_item_whose_restart_fails(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Another feature's item: its failing restart is logged, three failures within an
    hour raise the crash-loop issue, and unregistering it takes its entities."""
    health = hub.runtime_data.health

    async def restart() -> bool:
        raise RuntimeError("the recorder cannot be reached")

    health.register(
        HealthItem(ItemSpec("recorder", "Recorder", "service", restartable=True), restart=restart)
    )
    await hass.async_block_till_done()
    sensor = "binary_sensor.makerhub_recorder_problem"
    assert hass.states.get(sensor) is not None
    issues = ir.async_get(hass)
    for _ in range(3):
        health.report("recorder", False, "it crashed")
        await hass.async_block_till_done()
        assert hass.states.get(sensor).state == "on"
        health.report("recorder", True)
        await hass.async_block_till_done()
    health.report("recorder", False, "it crashed")
    await hass.async_block_till_done()
    assert "Could not restart Recorder: the recorder cannot be reached" in caplog.text
    assert issues.async_get_issue(DOMAIN, "health_crash_looping_recorder") is not None
    health.report("recorder", True)
    assert issues.async_get_issue(DOMAIN, "health_crash_looping_recorder") is None

    health.unregister("recorder")
    await hass.async_block_till_done()
    assert hass.states.get(sensor) is None
    assert er.async_get(hass).async_get(sensor) is None
    health.unregister("recorder")  # twice is harmless


async def test_a_failing_add_on_is_restarted_through_the_supervisor(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, hub: MockConfigEntry
) -> None:
    """A service whose address is an add-on's host name is restarted through the
    Supervisor (its client mocked: no Supervisor runs here) when its poll fails."""
    failing = {"now": True}

    async def poll() -> int:
        if failing["now"]:
            raise UpdateFailed("the firmware service cannot be reached")
        return 1

    coordinator: DataUpdateCoordinator[int] = DataUpdateCoordinator(
        hass,
        MagicMock(),
        config_entry=hub,
        name="firmware",
        update_method=poll,
        update_interval=timedelta(minutes=5),
    )
    health = HubHealth(
        hass,
        hub,
        hub.runtime_data.hub,
        telemetry_connected=None,
        telemetry_coordinator=None,
        firmware=SimpleNamespace(coordinator=coordinator),
        firmware_env=None,
        desktops=None,
        service_urls={"firmware_service": "http://local-makerhub-firmware:8099"},
    )
    client = MagicMock()
    client.addons.restart_addon = AsyncMock()
    hass.config.components.add("hassio")
    with patch(
        "homeassistant.components.hassio.handler.get_supervisor_client", return_value=client
    ):
        await health.async_start()
        item = health.health("firmware_service")
        assert item is not None
        assert (item.period, item.restart_limit) == (300, 3)
        await coordinator.async_refresh()
        await hass.async_block_till_done()
    client.addons.restart_addon.assert_awaited_once_with("local_makerhub_firmware")
    item = health.health("firmware_service")
    assert item.status == "problem"
    assert item.message == "Firmware service: the firmware service cannot be reached"
    failing["now"] = False
    await coordinator.async_refresh()
    assert health.health("firmware_service").status == "healthy"
    health.async_stop()
