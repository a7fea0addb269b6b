"""The run marker: parsed strictly, an unclean stop dated by its last alive stamp."""

from __future__ import annotations

import math

import pytest

from custom_components.makerhub.core.hass_run import (
    MarkerError,
    RunMarker,
    parse_marker,
    unclean_stop,
)


def test_a_marker_round_trips() -> None:
    marker = RunMarker(100.0, 160.0)
    assert parse_marker(marker.as_dict()) == marker
    assert parse_marker({"started": 1, "alive": 2, "clean": True}) == RunMarker(1.0, 2.0, True)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ([1, 2], "not a mapping: list"),
        (None, "not a mapping: NoneType"),
        ({"alive": 2.0, "clean": False}, "'started' is not a time: None"),
        ({"started": "noon", "alive": 2.0, "clean": False}, "'started' is not a time: 'noon'"),
        ({"started": True, "alive": 2.0, "clean": False}, "'started' is not a time: True"),
        ({"started": 1.0, "alive": math.inf, "clean": False}, "'alive' is not a time: inf"),
        ({"started": 1.0, "alive": math.nan, "clean": False}, "'alive' is not a time: nan"),
        ({"started": -1.0, "alive": 2.0, "clean": False}, "'started' is not a time: -1.0"),
        ({"started": 1.0, "alive": 2.0}, "'clean' is not true or false: None"),
        ({"started": 1.0, "alive": 2.0, "clean": "no"}, "'clean' is not true or false: 'no'"),
        ({"started": 5.0, "alive": 2.0, "clean": False}, "last alive before its start"),
    ],
)
def test_a_damaged_marker_is_refused_with_its_reason(data: object, reason: str) -> None:
    with pytest.raises(MarkerError) as err:
        parse_marker(data)
    assert str(err.value) == reason


def test_an_unclean_stop_is_dated_by_the_last_alive_stamp() -> None:
    assert unclean_stop(None, 1000.0) is None
    assert unclean_stop(RunMarker(100.0, 400.0, clean=True), 1000.0) is None
    assert unclean_stop(RunMarker(100.0, 400.0), 1000.0) == 400.0
    # The clock was set back since: it died no later than now.
    assert unclean_stop(RunMarker(100.0, 4000.0), 1000.0) == 1000.0
