"""The weeks and months of the indicators, and the active-time counter (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.makerhub.core.periods import (
    month_start,
    next_month_start,
    next_week_start,
    seconds_between,
    week_start,
    within,
)
from custom_components.makerhub.core.presence.active_time import ActiveTime

BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str) -> datetime:
    """Return a Berlin time."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def test_periods() -> None:
    """Weeks start on Monday, months on the 1st, at local midnight."""
    moment = at("2026-12-09 15:30")  # a Wednesday
    assert week_start(moment) == at("2026-12-07 00:00")
    assert next_week_start(moment) == at("2026-12-14 00:00")
    assert week_start(at("2026-12-07 00:00")) == at("2026-12-07 00:00")
    assert month_start(moment) == at("2026-12-01 00:00")
    assert next_month_start(moment) == at("2027-01-01 00:00")
    assert next_month_start(at("2027-01-31 23:59")) == at("2027-02-01 00:00")
    assert within(moment, week_start(moment), next_week_start(moment))
    assert not within(next_week_start(moment), week_start(moment), next_week_start(moment))
    assert not within(None, week_start(moment), next_week_start(moment))


def test_a_week_with_a_daylight_saving_change_has_its_real_length() -> None:
    """The week of the end of summer time in Berlin has 169 hours."""
    start = week_start(at("2026-10-25 12:00"))
    assert seconds_between(start, next_week_start(start)) == 169 * 3600
    assert next_week_start(start) == at("2026-10-26 00:00")


def test_counts_active_time_split_at_week_and_month_boundaries() -> None:
    """A session from Monday 30 November 23:00 to Tuesday 1 December 01:30 gives November
    one hour and December one and a half; the week (from 30 November) all of it."""
    counter = ActiveTime()
    counter.observe(True, at("2026-11-30 23:00"))
    assert counter.month_hours(at("2026-11-30 23:30")) == 0.5  # the running part counts
    counter.checkpoint(at("2026-12-01 00:30"))
    counter.observe(False, at("2026-12-01 01:30"))
    assert counter.months == {"2026-11": 3600.0, "2026-12": 5400.0}
    assert counter.weeks == {"2026-11-30": 9000.0}
    assert counter.month_hours(at("2026-12-15 12:00")) == 1.5
    assert counter.month_hours(at("2026-11-30 23:59")) == 1.0
    assert counter.week_hours(at("2026-12-02 12:00")) == 2.5
    assert counter.week_hours(at("2026-12-07 12:00")) == 0.0  # the next week


def test_sunday_to_monday_starts_a_new_week() -> None:
    """A session over Sunday midnight gives each week its part."""
    counter = ActiveTime()
    counter.observe(True, at("2026-12-06 23:00"))
    counter.observe(False, at("2026-12-07 01:00"))
    assert counter.weeks == {"2026-11-30": 3600.0, "2026-12-07": 3600.0}
    assert counter.months == {"2026-12": 7200.0}


def test_inactive_time_and_repeats_count_nothing() -> None:
    """Only active time counts; the same state again, or a clock set back, adds nothing."""
    counter = ActiveTime()
    counter.observe(False, at("2026-12-07 08:00"))
    counter.observe(True, at("2026-12-07 09:00"))
    counter.observe(True, at("2026-12-07 09:30"))  # still active: counted so far
    counter.observe(True, at("2026-12-07 09:10"))  # the clock went back: nothing
    counter.observe(False, at("2026-12-07 10:00"))
    counter.checkpoint(at("2026-12-07 12:00"))  # inactive: nothing
    assert counter.week_hours(at("2026-12-07 12:00")) == 1.0
    assert counter.active_since is None


def test_keeps_the_last_ten_weeks_and_thirteen_months() -> None:
    """Old periods are dropped as new ones are counted."""
    counter = ActiveTime()
    moment = at("2025-01-06 10:00")
    for _ in range(60):
        counter.observe(True, moment)
        counter.observe(False, moment + timedelta(hours=1))
        moment += timedelta(days=7)
    assert len(counter.weeks) == 10
    assert len(counter.months) == 13
    assert max(counter.weeks) == week_start(moment - timedelta(days=7)).date().isoformat()


def test_round_trip_and_bad_stored_totals() -> None:
    """The totals come back; the running interval does not (it counted to its last
    checkpoint); bad totals are dropped with their reasons."""
    counter = ActiveTime()
    counter.observe(True, at("2026-12-07 09:00"))
    counter.checkpoint(at("2026-12-07 10:00"))
    restored, problems = ActiveTime.from_json(counter.to_json())
    assert problems == []
    assert restored.active_since is None
    assert restored.week_hours(at("2026-12-07 18:00")) == 1.0

    restored, problems = ActiveTime.from_json(
        {
            "weeks": {"2026-12-07": -1, "2026-11-30": "x", "2026-11-23": True, "2026-11-16": 60},
            "months": [],
        }
    )
    assert restored.weeks == {"2026-11-16": 60.0}
    assert problems == [
        "weeks 2026-12-07: not a number of seconds",
        "weeks 2026-11-30: not a number of seconds",
        "weeks 2026-11-23: not a number of seconds",
        "months: not an object",
    ]
    assert ActiveTime.from_json(None)[1] == ["weeks: not an object", "months: not an object"]


@pytest.mark.parametrize(
    ("moment", "monday"),
    [
        (at("2026-03-29 03:30"), at("2026-03-23 00:00")),
        (at("2026-10-25 02:30"), at("2026-10-19 00:00")),
    ],
)
def test_periods_hold_across_daylight_saving_days(moment: datetime, monday: datetime) -> None:
    """On the days the clocks change the periods start at midnight as on any other."""
    assert week_start(moment) == monday
    assert week_start(moment).utcoffset() == monday.utcoffset()
    assert month_start(moment).day == 1
