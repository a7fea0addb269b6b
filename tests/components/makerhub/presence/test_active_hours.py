"""Hours the space was active this week and this month: counted from the space-active
state with the frozen clock, split at Monday's and the 1st's midnight, saved every minute
while active (what a killed process keeps), and loaded again."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.sensor import ATTR_LAST_RESET, ATTR_STATE_CLASS
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerhub.data import makerhub_data
from custom_components.makerhub.presence.active_hours import STORAGE_KEY, SpaceActiveHours

from .conftest import beacon, post, settle

WEEK = "sensor.makerhub_hours_active_this_week"
MONTH = "sensor.makerhub_hours_active_this_month"
ACTIVE = "binary_sensor.makerhub_space_active"


def local(day: date, at: time) -> datetime:
    """Return a local time of Home Assistant's time zone."""
    return datetime.combine(day, at, dt_util.get_default_time_zone())


def hours(hass: HomeAssistant, entity_id: str) -> float:
    """Return a sensor's hours."""
    state = hass.states.get(entity_id)
    assert state is not None
    return float(state.state)


async def stay(
    hass: HomeAssistant, entry: MockConfigEntry, freezer: FrozenDateTimeFactory, minutes: int
) -> None:
    """Keep Alice at Bench A for ``minutes``, her app reporting every 10 minutes (its
    reports last 20; handed to the hub's presence as the endpoint does, since the test
    client's token would expire); every minute passes for Home Assistant's timers."""
    for minute in range(minutes):
        if minute % 10 == 0:
            entry.runtime_data.presence.report(
                "person.alice", {"beacon": beacon(1), "distance": 0.6}
            )
        await settle(hass, freezer, 60)


@pytest.fixture
def started_at(freezer: FrozenDateTimeFactory, request: pytest.FixtureRequest) -> datetime:
    """Freeze the clock (before the hub starts) at the test's moment."""
    day, at = request.param
    moment = local(day, at)  # in Home Assistant's time zone, set by now
    freezer.move_to(moment)
    return moment


@pytest.mark.parametrize(
    ("started_at", "week_after", "month_after", "stored_weeks", "stored_months"),
    [
        # Sunday 23:30 to Monday 00:30: a new week, the same month.
        (
            (date(2026, 12, 6), time(23, 30)),
            0.5,
            1.0,
            {"2026-11-30", "2026-12-07"},
            {"2026-12"},
        ),
        # Monday 30 November 23:30 to Tuesday 00:30: the same week, a new month.
        (
            (date(2026, 11, 30), time(23, 30)),
            1.0,
            0.5,
            {"2026-11-30"},
            {"2026-11", "2026-12"},
        ),
    ],
    indirect=["started_at"],
)
async def test_active_hours_split_at_boundaries_and_survive(
    started_at: datetime,
    week_after: float,
    month_after: float,
    stored_weeks: set[str],
    stored_months: set[str],
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    alice: str,
    hub: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    hass_storage: dict[str, Any],
) -> None:
    """An hour over a boundary: each period gets its part; inactive time adds nothing;
    each minute's count is saved; a new process loads what was saved."""
    client = await hass_client()
    assert hours(hass, WEEK) == 0.0
    state = hass.states.get(WEEK)
    assert state.attributes[ATTR_STATE_CLASS] == "total"
    assert state.attributes["unit_of_measurement"] == "h"

    assert (await post(client, {"beacon": beacon(1), "distance": 0.6}))[0] == 200
    await settle(hass, freezer, 2)  # the dwell time: now active
    assert hass.states.get(ACTIVE).state == "on"
    await stay(hass, hub, freezer, 60)
    assert hours(hass, WEEK) == week_after
    assert hours(hass, MONTH) == month_after
    assert hass.states.get(WEEK).attributes[ATTR_LAST_RESET] == (
        local(dt_util.now().date() - timedelta(days=dt_util.now().weekday()), time(0)).isoformat()
    )
    assert hass.states.get(MONTH).attributes[ATTR_LAST_RESET] == (
        local(dt_util.now().date().replace(day=1), time(0)).isoformat()
    )
    # Saved as it went: a kill now would keep all but the last minute at most.
    stored = hass_storage[STORAGE_KEY]["data"]
    assert set(stored["weeks"]) == stored_weeks
    assert set(stored["months"]) == stored_months
    assert sum(stored["weeks"].values()) == pytest.approx(3600, abs=63)

    hub.runtime_data.presence.report("person.alice", {"exit": True})
    await hass.async_block_till_done()
    assert hass.states.get(ACTIVE).state == "off"
    counted = dict(hass_storage[STORAGE_KEY]["data"]["weeks"])
    assert sum(counted.values()) == pytest.approx(3600, abs=3)
    await settle(hass, freezer, 3 * 3600)  # nobody there: nothing counts
    assert hours(hass, WEEK) == week_after
    assert hass_storage[STORAGE_KEY]["data"]["weeks"] == counted

    # A new process loads the saved totals.
    loaded = await SpaceActiveHours.async_load(hass)
    assert loaded.week_hours() == week_after
    assert loaded.month_hours() == month_after
    assert loaded.dropped == 0


async def test_a_new_week_starts_from_zero_and_a_running_session_is_saved_up_to_its_last_minute(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    alice: str,
    hass_client: ClientSessionGenerator,
    hass_storage: dict[str, Any],
    hub_entry: MockConfigEntry,
    mqtt_mock: Any,
) -> None:
    """Monday's midnight shows zero for the new week even while nobody is there; an active
    session is in storage up to its last checkpoint; unloading the hub counts up to then."""
    freezer.move_to(local(date(2026, 12, 9), time(10, 0)))  # a Wednesday
    hub_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    hub_entry.runtime_data.presence.report(alice, {"beacon": beacon(1), "distance": 0.6})
    await settle(hass, freezer, 2)
    await stay(hass, hub_entry, freezer, 30)
    assert hours(hass, WEEK) == 0.5
    active_hours = hub_entry.runtime_data.presence.diagnostics()["active_hours"]
    assert active_hours["active"] is True
    assert active_hours["weeks"]["2026-12-07"] == pytest.approx(30 * 60, abs=3)
    assert active_hours["dropped_at_load"] == 0
    await settle(hass, freezer, 20)  # not a whole minute: not yet saved
    stored = hass_storage[STORAGE_KEY]["data"]["weeks"]["2026-12-07"]
    assert stored == pytest.approx(30 * 60, abs=3)
    assert await hass.config_entries.async_unload(hub_entry.entry_id)
    await hass.async_block_till_done()
    stored = hass_storage[STORAGE_KEY]["data"]["weeks"]["2026-12-07"]
    assert stored == pytest.approx(30 * 60 + 20, abs=3)
    hours_data = makerhub_data(hass).active_hours
    assert hours_data.active is False

    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    assert hours(hass, WEEK) == 0.51
    freezer.move_to(local(date(2026, 12, 14), time(0, 0, 1)))
    await settle(hass, freezer, 0)
    assert hours(hass, WEEK) == 0.0
    assert hours(hass, MONTH) == 0.51


async def test_bad_stored_totals_are_dropped(
    hass: HomeAssistant, hass_storage: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """A stored total that is no number of seconds is logged and dropped."""
    hass_storage[STORAGE_KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": STORAGE_KEY,
        "data": {"weeks": {"2026-12-07": "lots"}, "months": {"2026-12": 7200}},
    }
    loaded = await SpaceActiveHours.async_load(hass)
    assert loaded.dropped == 1
    assert loaded.counter.months == {"2026-12": 7200.0}
    assert "Stored active hours dropped: weeks 2026-12-07: not a number of seconds" in caplog.text
