"""Home Assistant as a health item: an unclean stop (a run marker left unclean) gives one
problem and one recovery at the next start, through the alert blueprint too; a clean stop
and a damaged marker give none."""

from __future__ import annotations

from datetime import datetime, timedelta
import logging
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.mqtt import config_flow as _mqtt_flow  # noqa: F401
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.makerhub.health.hass_run import STORAGE_KEY
from custom_components.makerhub.health.manager import (
    EVENT_HEALTH_PROBLEM,
    EVENT_HEALTH_RECOVERED,
)
from tests.helpers.blueprints import (
    NOTIFY_ACTION,
    async_automation_from,
    record_notifications,
    settle,
    use_blueprints,
)

PROBLEM = "binary_sensor.makerhub_home_assistant_problem"
LAST_FAILURE = "sensor.makerhub_home_assistant_last_failure"
SUMMARY = "sensor.makerhub_healthy_items"
START = datetime(2026, 3, 1, 12, 0, tzinfo=dt_util.UTC)
DIED = START - timedelta(minutes=7, seconds=30)


@pytest.fixture
def hub_subentries() -> list[Any]:
    """No units: only the hub's own items."""
    return []


def store_marker(hass_storage: dict[str, Any], data: object) -> None:
    """Leave a run marker as a previous run would have."""
    hass_storage[STORAGE_KEY] = {"version": 1, "minor_version": 1, "key": STORAGE_KEY, "data": data}


def marker(hass_storage: dict[str, Any]) -> dict[str, Any]:
    """Return the run marker as stored now."""
    data: dict[str, Any] = hass_storage[STORAGE_KEY]["data"]
    return data


async def start(hass: HomeAssistant, hub_entry: MockConfigEntry) -> None:
    hub_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()


async def later(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await settle(hass)


async def test_an_unclean_stop_gives_one_problem_and_one_recovery(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    tmp_path: Path,
) -> None:
    freezer.move_to(START)
    died = DIED.timestamp()
    store_marker(hass_storage, {"started": died - 3600, "alive": died, "clean": False})
    problems = async_capture_events(hass, EVENT_HEALTH_PROBLEM)
    recovered = async_capture_events(hass, EVENT_HEALTH_RECOVERED)
    await start(hass, hub_entry)
    # This run's marker, unclean until it stops.
    now = START.timestamp()
    assert marker(hass_storage) == {"started": now, "alive": now, "clean": False}
    assert hass.states.get(PROBLEM).attributes["status"] == "pending"
    use_blueprints(hass, tmp_path / "config")
    notifications = record_notifications(hass)
    await async_automation_from(
        hass,
        "makerhub_problem_alert.yaml",
        {"notify_action": NOTIFY_ACTION, "reminder_minutes": 0, "cooldown_minutes": 0},
    )
    assert problems == []

    await later(hass, freezer, 1)  # announced once Home Assistant has started
    assert [e.data for e in problems] == [
        {
            "item": "home_assistant",
            "name": "Home Assistant",
            "kind": "home_assistant",
            "root_cause": "home_assistant",
            "root_cause_name": "Home Assistant",
            "message": "Home Assistant: stopped unexpectedly at 2026-03-01 03:52:30 "
            "(power cut or crash)",  # the test's time zone: US/Pacific
            "at": DIED.isoformat(),
            "since": DIED.isoformat(),
            "test": False,
            "down_for": 0.0,
        }
    ]
    assert hass.states.get(PROBLEM).state == "on"
    assert hass.states.get(LAST_FAILURE).state == DIED.isoformat()
    assert recovered == []

    await later(hass, freezer, 10)  # running again
    assert len(recovered) == 1
    assert recovered[0].data["item"] == "home_assistant"
    assert recovered[0].data["since"] == DIED.isoformat()
    assert recovered[0].data["down_for"] == 461.0  # 7 min 30 s down, 11 s up
    assert recovered[0].data["message"] == "Home Assistant is working again (down for 461 s)"
    assert hass.states.get(PROBLEM).state == "off"
    summary = hass.states.get(SUMMARY)
    assert summary.attributes["root_causes"] == []
    assert notifications.sent == [
        {
            "title": "Makerhub: Home Assistant stopped working",
            "message": "Home Assistant: stopped unexpectedly at 2026-03-01 03:52:30 "
            "(power cut or crash)",
            "data": {},
        },
        {
            "title": "Makerhub: Home Assistant works again",
            "message": "Home Assistant works again (it was down for 8 min).",
            "data": {},
        },
    ]

    await later(hass, freezer, 3600)  # nothing more, and alive stamps meanwhile
    assert len(problems) == 1
    assert len(recovered) == 1
    assert marker(hass_storage)["alive"] == now + 3611
    assert marker(hass_storage)["clean"] is False
    assert len(notifications.sent) == 2


async def test_a_clean_stop_gives_nothing_and_is_marked(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    freezer.move_to(START)
    died = DIED.timestamp()
    store_marker(hass_storage, {"started": died - 3600, "alive": died, "clean": True})
    problems = async_capture_events(hass, EVENT_HEALTH_PROBLEM)
    recovered = async_capture_events(hass, EVENT_HEALTH_RECOVERED)
    await start(hass, hub_entry)
    now = START.timestamp()
    assert hass.states.get(PROBLEM).state == "off"
    assert hass.states.get(PROBLEM).attributes["status"] == "healthy"
    await later(hass, freezer, 120)
    assert marker(hass_storage) == {"started": now, "alive": now + 120, "clean": False}
    await later(hass, freezer, 5)
    assert marker(hass_storage)["alive"] == now + 120

    # Home Assistant stops: the run is marked clean, stamps stop.
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await settle(hass)
    assert marker(hass_storage) == {"started": now, "alive": now + 125, "clean": True}
    await later(hass, freezer, 60)
    assert marker(hass_storage)["alive"] == now + 125
    assert problems == []
    assert recovered == []

    # The next start finds it clean.
    assert await hass.config_entries.async_reload(hub_entry.entry_id)
    await later(hass, freezer, 60)
    assert problems == []
    assert recovered == []
    assert marker(hass_storage)["clean"] is False


async def test_an_unloaded_hub_marks_its_run_clean(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    freezer.move_to(START)
    await start(hass, hub_entry)  # no marker: the first run
    assert hass.states.get(PROBLEM).attributes["status"] == "healthy"
    await later(hass, freezer, 30)
    assert await hass.config_entries.async_unload(hub_entry.entry_id)
    await settle(hass)
    now = START.timestamp()
    assert marker(hass_storage) == {"started": now, "alive": now + 30, "clean": True}
    await later(hass, freezer, 60)  # no stamps once unloaded
    assert marker(hass_storage)["alive"] == now + 30
    problems = async_capture_events(hass, EVENT_HEALTH_PROBLEM)
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await later(hass, freezer, 60)
    assert problems == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("garbage", "not a mapping: str"),
        ({"started": 1.0, "clean": False}, "'alive' is not a time: None"),
        ({"started": 1e9, "alive": 1.0, "clean": False}, "last alive before its start"),
    ],
)
async def test_a_damaged_marker_is_treated_safely(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    data: object,
    reason: str,
) -> None:
    freezer.move_to(START)
    store_marker(hass_storage, data)
    problems = async_capture_events(hass, EVENT_HEALTH_PROBLEM)
    with caplog.at_level(logging.WARNING):
        await start(hass, hub_entry)
    assert f"The run marker of the previous run is damaged ({reason})" in caplog.text
    await later(hass, freezer, 60)
    assert problems == []
    assert hass.states.get(PROBLEM).attributes["status"] == "healthy"
    now = START.timestamp()
    assert marker(hass_storage) == {"started": now, "alive": now + 60, "clean": False}


async def test_a_hub_unloaded_before_the_announcement_keeps_it_for_the_next_start(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    freezer.move_to(START)
    died = DIED.timestamp()
    previous = {"started": died - 60, "alive": died, "clean": False}
    store_marker(hass_storage, previous)
    problems = async_capture_events(hass, EVENT_HEALTH_PROBLEM)
    await start(hass, hub_entry)
    assert await hass.config_entries.async_unload(hub_entry.entry_id)
    await later(hass, freezer, 30)
    assert problems == []
    assert marker(hass_storage) == previous  # still to be announced
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await later(hass, freezer, 1)
    assert [e.data["item"] for e in problems] == ["home_assistant"]
    assert problems[0].data["since"] == DIED.isoformat()
