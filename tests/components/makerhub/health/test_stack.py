"""Every part of the stack as an expected item: a display shown as a display, a unit's
state interval learned from its reports, an announced problem kept across a restart of
Home Assistant, the broker's admin login."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.mqtt import config_flow as _mqtt_flow  # noqa: F401
from homeassistant.components.mqtt.const import MQTT_CONNECTION_STATE
from homeassistant.core import HomeAssistant
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_mqtt_message,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.makerhub.health.manager import (
    EVENT_HEALTH_PROBLEM,
    EVENT_HEALTH_RECOVERED,
    STORE_KEY,
    HubHealth,
)
from makerhub_display.agent import MAKERHUB_JSON
from tests.components.makerhub.conftest import UID, bring_online, state_payload, unit_subentry

PROBLEM = "binary_sensor.bench_health_problem"
DISPLAY_UID = "d15p1a000001"


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    """Move the frozen clock on and run what became due."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


@pytest.mark.parametrize(
    "hub_subentries",
    [[unit_subentry(DISPLAY_UID, "Wall screen", schema=MAKERHUB_JSON, announce_id="wall")]],
)
async def test_a_display_is_an_item_on_the_broker(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
) -> None:
    problems = async_capture_events(hass, EVENT_HEALTH_PROBLEM)
    await bring_online(hass, DISPLAY_UID)
    state = hass.states.get("binary_sensor.wall_screen_health_problem")
    assert state.state == "off"
    assert state.attributes["kind"] == "display"
    item = hub.runtime_data.health.health(f"unit:{DISPLAY_UID}")
    assert (item.kind, item.parent) == ("display", "broker")
    async_dispatcher_send(hass, MQTT_CONNECTION_STATE, False)
    await hass.async_block_till_done()
    await advance(hass, freezer, 300)
    state = hass.states.get("binary_sensor.wall_screen_health_problem")
    assert state.state == "on"
    assert state.attributes["root_cause"] == "broker"
    assert [e.data["item"] for e in problems] == ["broker"]


async def test_a_units_state_interval_is_learned_from_its_reports(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """The unit reports every 5 s, not the 30 s default: after a few reports, its
    heartbeat is late after 5 + 10 s, and the learned interval is kept for a restart."""
    problems = async_capture_events(hass, EVENT_HEALTH_PROBLEM)
    await bring_online(hass)
    assert hass.states.get(PROBLEM).attributes["period"] == 30
    for _ in range(4):
        await advance(hass, freezer, 5)
        async_fire_mqtt_message(hass, f"makerhub/{UID}/sys/state", state_payload())
        await hass.async_block_till_done()
    assert hass.states.get(PROBLEM).attributes["period"] == 5
    assert hass.states.get(PROBLEM).attributes["grace"] == 10
    await advance(hass, freezer, 14)
    assert hass.states.get(PROBLEM).state == "off"
    await advance(hass, freezer, 1.5)
    assert hass.states.get(PROBLEM).state == "on"
    assert len(problems) == 1
    await advance(hass, freezer, 60)
    assert hass_storage[STORE_KEY]["data"]["learned"] == {f"unit:{UID}": 5}

    await hass.config_entries.async_reload(hub.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(PROBLEM).attributes["period"] == 5
    assert len(problems) == 1  # the same problem, not announced again


async def test_a_per_item_timing_is_not_overridden_by_learning(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
) -> None:
    hass.config_entries.async_update_entry(
        hub, options={**hub.options, "health_timing": {f"unit:{UID}": {"period": 60}}}
    )
    await hass.async_block_till_done()
    await bring_online(hass)
    for _ in range(4):
        await advance(hass, freezer, 5)
        async_fire_mqtt_message(hass, f"makerhub/{UID}/sys/state", state_payload())
        await hass.async_block_till_done()
    assert hass.states.get(PROBLEM).attributes["period"] == 60


@pytest.fixture
def stored_dead_unit(hass_storage: dict[str, Any]) -> float:
    """The store as a Home Assistant left it whose unit had been dead for a day."""
    since = dt_util.utcnow().timestamp() - 86400
    hass_storage[STORE_KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": STORE_KEY,
        "data": {
            "items": {
                f"unit:{UID}": {
                    "last_failure": since,
                    "failed_since": since,
                    "announced": True,
                    "restarts": 3,
                },
                "camera:gone": {"last_failure": since},
                "unit:deleted00000": {"last_failure": since},
            },
            "learned": {"unit:deleted00000": 7.0},
        },
    }
    return since


async def test_a_long_dead_unit_is_not_a_new_problem_after_a_restart(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
    stored_dead_unit: float,
    hass_storage: dict[str, Any],
) -> None:
    problems = async_capture_events(hass, EVENT_HEALTH_PROBLEM)
    recovered = async_capture_events(hass, EVENT_HEALTH_RECOVERED)
    hub_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(PROBLEM).attributes["status"] == "pending"
    await advance(hass, freezer, 3600)
    state = hass.states.get(PROBLEM)
    assert state.state == "on"
    assert state.attributes["restarts"] == 3
    assert problems == []  # announced before the restart
    health: HubHealth = hub_entry.runtime_data.health
    assert health.health(f"unit:{UID}").failed_since == stored_dead_unit
    saved = hass_storage[STORE_KEY]["data"]["items"]
    assert saved[f"unit:{UID}"]["failed_since"] == stored_dead_unit
    assert "camera:gone" in saved  # not registered (yet): kept
    assert hass_storage[STORE_KEY]["data"]["learned"] == {}

    await bring_online(hass)
    assert hass.states.get(PROBLEM).state == "off"
    assert len(recovered) == 1
    assert recovered[0].data["down_for"] > 86400
