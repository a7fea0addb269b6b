"""The displays' blueprints in a Home Assistant with the hub: real stations and presence
(reports through the presence manager, as the HTTP view hands them over), a real display
unit (the display agent's schema, its entities from the unit machinery, MQTT mocked) in a
station's area, and a recording ``makerhub.show_on_display`` in place of the displays
feature's (its own tests cover it; the end-to-end test runs both together).

*Follow-me desktop*, *desktop follows the project switch*, *screens off when the space is
empty* and *wake a screen on touch*: what each asks the displays to do, and when."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import area_registry as ar, device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.makerhub.const import DOMAIN
from makerhub_display.agent import MAKERHUB_JSON
from tests.components.makerhub.conftest import (
    bring_online,
    state_payload,
    unit_entity_id,
    unit_subentry,
)
from tests.components.makerhub.presence.conftest import beacon, station
from tests.helpers.blueprints import async_automation_from, settle, use_blueprints

DISPLAY = "d15b1a7000a1"
ALICE = "person.alice"
BOB = "person.bob"
CAROL = "person.carol"
BENCH = "Bench A"
LASER = "Laser"
SPACE = "binary_sensor.makerhub_space_active"
NOW = "2026-03-02T09:00:00+00:00"


@dataclass
class Shown:
    """What ``makerhub.show_on_display`` was asked, in order."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    def take(self) -> list[dict[str, Any]]:
        """Return the calls since the last take."""
        taken, self.calls = self.calls, []
        return taken


@pytest.fixture
def hub_subentries() -> list[ConfigSubentryData]:
    """A display unit and two stations."""
    return [
        unit_subentry(DISPLAY, "Workbench display", MAKERHUB_JSON, "workbench", None),
        station(BENCH, 1),
        station(LASER, 2),
    ]


@pytest.fixture
async def space(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hub: MockConfigEntry, tmp_path: Path
) -> MockConfigEntry:
    """The bench station and the display in the area *Workbench*; the laser in none; the
    repository's blueprints in the config folder. The clock is frozen before the hub
    starts (the unit's availability and presence's deadlines run on it)."""
    freezer.move_to(NOW)
    use_blueprints(hass, tmp_path)
    area = ar.async_get(hass).async_create("Workbench")
    devices = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(devices, hub.entry_id):
        if device.name in (BENCH, "Workbench display"):
            devices.async_update_device(device.id, area_id=area.id)
    await bring_online(hass, DISPLAY)
    return hub


@pytest.fixture
def shown(hass: HomeAssistant, space: MockConfigEntry) -> Shown:
    """``makerhub.show_on_display``, recording what it is asked."""
    recorded = Shown()

    async def show(call: ServiceCall) -> None:
        recorded.calls.append(dict(call.data))

    hass.services.async_register(DOMAIN, "show_on_display", show)
    return recorded


def display_device(hass: HomeAssistant) -> str:
    """Return the display unit's device id."""
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, DISPLAY)})
    assert device is not None
    return device.id


async def arrive(hass: HomeAssistant, hub: MockConfigEntry, person: str, minor: int) -> None:
    """``person``'s app reports the station with beacon ``minor`` close by."""
    hub.runtime_data.presence.report(person, {"beacon": beacon(minor), "distance": 0.5})
    await settle(hass)


async def leave(hass: HomeAssistant, hub: MockConfigEntry, person: str) -> None:
    """``person``'s app reports being far from every beacon."""
    hub.runtime_data.presence.report(person, {"exit": True})
    await settle(hass)


async def later(hass: HomeAssistant, freezer: FrozenDateTimeFactory, **delta: float) -> None:
    """Move the clock on and run what became due; the display unit reports its state every
    30 seconds meanwhile, as a running unit does (it stays available)."""
    left = timedelta(**delta)
    while left > timedelta(0):
        step = min(left, timedelta(seconds=30))
        async_fire_mqtt_message(hass, f"makerhub/{DISPLAY}/sys/state", state_payload())
        freezer.tick(step)
        async_fire_time_changed(hass)
        await settle(hass)
        left -= step


def desktop(person: str, area: str = "workbench") -> dict[str, Any]:
    """Return the call that shows ``person``'s desktop at the area's station."""
    return {"station": area, "what": "desktop", "person": person}


IDLE = {"station": "workbench", "what": "idle"}


async def test_follow_me_shows_the_newcomer_then_whoever_is_left_then_idle(
    hass: HomeAssistant, space: MockConfigEntry, shown: Shown, freezer: FrozenDateTimeFactory
) -> None:
    await async_automation_from(
        hass, "makerhub_follow_me_desktop.yaml", {"leave_delay": {"minutes": 2}}
    )
    await arrive(hass, space, ALICE, 1)
    assert shown.take() == [desktop(ALICE)]
    await later(hass, freezer, seconds=10)
    await arrive(hass, space, BOB, 1)
    await later(hass, freezer, seconds=10)
    await arrive(hass, space, CAROL, 1)
    assert shown.take() == [desktop(BOB), desktop(CAROL)]

    await leave(hass, space, CAROL)
    await later(hass, freezer, minutes=1, seconds=50)
    assert shown.take() == []  # within the delay
    await later(hass, freezer, seconds=20)
    assert shown.take() == [desktop(BOB)]  # the last to arrive of those still there

    await leave(hass, space, BOB)
    await later(hass, freezer, minutes=2, seconds=10)
    assert shown.take() == [desktop(ALICE)]

    await leave(hass, space, ALICE)
    await later(hass, freezer, minutes=2, seconds=10)
    assert shown.take() == [IDLE]
    await later(hass, freezer, minutes=10)
    assert shown.take() == []


async def test_follow_me_coming_back_or_someone_arriving_within_the_delay(
    hass: HomeAssistant, space: MockConfigEntry, shown: Shown, freezer: FrozenDateTimeFactory
) -> None:
    await async_automation_from(
        hass, "makerhub_follow_me_desktop.yaml", {"leave_delay": {"minutes": 2}}
    )
    await arrive(hass, space, ALICE, 1)
    await leave(hass, space, ALICE)
    await later(hass, freezer, minutes=1)
    await arrive(hass, space, ALICE, 1)  # back within the delay: no idle page
    await later(hass, freezer, minutes=5)
    assert shown.take() == [desktop(ALICE), desktop(ALICE)]

    await leave(hass, space, ALICE)
    await later(hass, freezer, minutes=1)
    await arrive(hass, space, BOB, 1)  # Bob takes the displays over at once
    await later(hass, freezer, minutes=5)
    assert shown.take() == [desktop(BOB)]


async def test_follow_me_moving_between_stations_and_chosen_areas(
    hass: HomeAssistant, space: MockConfigEntry, shown: Shown, freezer: FrozenDateTimeFactory
) -> None:
    """The laser's station is in no area: it has no displays to follow anyone; a station
    outside the chosen areas is left alone."""
    await async_automation_from(
        hass,
        "makerhub_follow_me_desktop.yaml",
        {"leave_delay": {"seconds": 30}, "stations": ["workbench"]},
    )
    await arrive(hass, space, ALICE, 2)
    assert shown.take() == []
    await arrive(hass, space, ALICE, 1)  # moved from the laser to the bench
    assert shown.take() == [desktop(ALICE)]
    await arrive(hass, space, ALICE, 2)  # and back: the bench goes idle after the delay
    await later(hass, freezer, seconds=40)
    assert shown.take() == [IDLE]

    area = ar.async_get(hass).async_create("Laser room")
    devices = dr.async_get(hass)
    laser = next(d for d in devices.devices.values() if d.name == LASER)
    devices.async_update_device(laser.id, area_id=area.id)
    await leave(hass, space, ALICE)
    await arrive(hass, space, ALICE, 2)  # a station in an area that was not chosen
    await later(hass, freezer, minutes=1)
    assert shown.take() == []


async def switch_project(hass: HomeAssistant, person: str, to: str | None) -> None:
    """Fire the projects' event as ``makerhub.set_active_project`` does."""
    hass.bus.async_fire(
        "makerhub_project_switched",
        {"person": person, "from": "robot-arm", "to": to, "to_name": to},
    )
    await settle(hass)


async def report_showing(hass: HomeAssistant, what: str) -> None:
    """The display agent reports what it shows."""
    async_fire_mqtt_message(hass, f"makerhub/{DISPLAY}/out/showing", what)
    await settle(hass)


async def test_the_desktop_follows_the_project_switch(
    hass: HomeAssistant, space: MockConfigEntry, shown: Shown, freezer: FrozenDateTimeFactory
) -> None:
    await async_automation_from(hass, "makerhub_follow_project_switch.yaml", {})
    display = display_device(hass)
    await report_showing(hass, "desktop")

    await switch_project(hass, ALICE, "clock")  # Alice is at no station
    assert shown.take() == []

    await arrive(hass, space, ALICE, 1)
    await switch_project(hass, ALICE, "clock")
    assert shown.take() == [{"display": [display], "what": "desktop", "person": ALICE}]
    await switch_project(hass, ALICE, None)
    assert shown.take() == [{"display": [display], "what": "idle"}]

    await later(hass, freezer, seconds=10)
    await arrive(hass, space, BOB, 1)  # the station shows the last to arrive: Bob
    await switch_project(hass, ALICE, "clock")
    assert shown.take() == []
    await switch_project(hass, BOB, "lamp")
    assert shown.take() == [{"display": [display], "what": "desktop", "person": BOB}]

    await report_showing(hass, "dashboard")  # a display showing something else is left
    await switch_project(hass, BOB, "clock")
    assert shown.take() == []


async def test_the_project_switch_at_a_station_not_chosen(
    hass: HomeAssistant, space: MockConfigEntry, shown: Shown
) -> None:
    await async_automation_from(
        hass, "makerhub_follow_project_switch.yaml", {"stations": ["elsewhere"]}
    )
    await report_showing(hass, "desktop")
    await arrive(hass, space, ALICE, 1)
    await switch_project(hass, ALICE, "clock")
    assert shown.take() == []


def screen_commands(mqtt_mock: MqttMockHAClient) -> list[str]:
    """Return the values sent to the display's ``screen`` input since the last call."""
    sent = [
        call.args[1]
        for call in mqtt_mock.async_publish.call_args_list
        if call.args[0] == f"makerhub/{DISPLAY}/in/screen"
    ]
    mqtt_mock.async_publish.reset_mock()
    return sent


async def test_screens_go_off_when_the_space_is_empty_and_on_when_active(
    hass: HomeAssistant,
    space: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Every Makerhub display's screen when none is picked, through its real switch."""
    await async_automation_from(
        hass, "makerhub_screens_off_when_empty.yaml", {"off_delay": {"minutes": 5}}
    )
    screen = unit_entity_id(hass, DISPLAY, ("in", "screen"))
    assert screen.startswith("switch.")
    assert screen.endswith("_screen")
    mqtt_mock.async_publish.reset_mock()
    await arrive(hass, space, ALICE, 1)
    active = hass.states.get(SPACE)
    assert active is not None
    assert active.state == "on"
    assert screen_commands(mqtt_mock) == ["true"]

    await leave(hass, space, ALICE)
    await later(hass, freezer, minutes=4)
    assert screen_commands(mqtt_mock) == []
    await later(hass, freezer, minutes=1, seconds=5)
    assert screen_commands(mqtt_mock) == ["false"]

    await arrive(hass, space, BOB, 2)
    assert screen_commands(mqtt_mock) == ["true"]


async def touch(hass: HomeAssistant, at: str) -> None:
    """The display agent reports an input on the screen."""
    async_fire_mqtt_message(hass, f"makerhub/{DISPLAY}/out/touch", at)
    await settle(hass)


async def wake_on_touch(hass: HomeAssistant, stay_on: dict[str, int]) -> None:
    """Set up *wake a screen on touch* for the display's touch sensor."""
    touch_sensor = unit_entity_id(hass, DISPLAY, ("out", "touch"))
    await async_automation_from(
        hass, "makerhub_wake_on_touch.yaml", {"touch_sensors": [touch_sensor], "stay_on": stay_on}
    )


async def test_a_touch_wakes_the_screen_and_it_sleeps_again_in_an_empty_space(
    hass: HomeAssistant,
    space: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    freezer: FrozenDateTimeFactory,
) -> None:
    await wake_on_touch(hass, {"minutes": 2})
    # The first report after adoption: the last touch, a day ago, wakes nothing.
    await touch(hass, "2026-03-01T18:00:00+00:00")
    mqtt_mock.async_publish.reset_mock()
    await later(hass, freezer, minutes=1)
    assert screen_commands(mqtt_mock) == []

    await touch(hass, "2026-03-02T09:01:00+00:00")
    assert screen_commands(mqtt_mock) == ["true"]
    await later(hass, freezer, minutes=1)
    await touch(hass, "2026-03-02T09:02:00+00:00")  # touched again: the wait starts anew
    await later(hass, freezer, minutes=1, seconds=30)
    assert screen_commands(mqtt_mock) == []
    await later(hass, freezer, seconds=40)
    assert screen_commands(mqtt_mock) == ["false"]

    await touch(hass, "2026-03-02T09:05:00+00:00")
    assert screen_commands(mqtt_mock) == ["true"]
    await arrive(hass, space, ALICE, 1)  # the space became active: it stays on
    await later(hass, freezer, minutes=5)
    assert screen_commands(mqtt_mock) == []
    await touch(hass, "2026-03-02T09:11:00+00:00")  # already on, space active: nothing to do
    await later(hass, freezer, minutes=5)
    assert screen_commands(mqtt_mock) == []


async def test_a_touch_with_no_wait_keeps_the_screen_on(
    hass: HomeAssistant,
    space: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    freezer: FrozenDateTimeFactory,
) -> None:
    await wake_on_touch(hass, {"seconds": 0})
    mqtt_mock.async_publish.reset_mock()
    await touch(hass, "2026-03-02T09:00:00+00:00")  # the first touch since adoption: now
    await later(hass, freezer, hours=1)
    assert screen_commands(mqtt_mock) == ["true"]


async def test_follow_me_with_no_delay(
    hass: HomeAssistant, space: MockConfigEntry, shown: Shown, freezer: FrozenDateTimeFactory
) -> None:
    """A delay of 0: the displays change as the person leaves."""
    await async_automation_from(
        hass, "makerhub_follow_me_desktop.yaml", {"leave_delay": {"seconds": 0}}
    )
    await arrive(hass, space, ALICE, 1)
    await later(hass, freezer, seconds=10)
    await arrive(hass, space, BOB, 1)
    await leave(hass, space, BOB)
    assert shown.take() == [desktop(ALICE), desktop(BOB), desktop(ALICE)]
    await leave(hass, space, ALICE)
    assert shown.take() == [IDLE]
