"""The distance model, input checks and smoothing."""

from __future__ import annotations

import math

import pytest

from custom_components.makerhub.core.presence import (
    PresenceInputError,
    PresenceInputReason,
    rssi_to_distance,
)
from custom_components.makerhub.core.presence.distance import (
    MIN_DISTANCE,
    check_distance,
    check_measured_power,
    check_rssi,
    check_time,
    distance_to_rssi,
    log_distance,
    rssi_to_log_distance,
)
from custom_components.makerhub.core.presence.smoothing import TREND_WINDOW, Track


def test_measured_power_is_the_rssi_at_one_metre() -> None:
    assert rssi_to_distance(-59, -59, 2.5) == pytest.approx(1.0)


@pytest.mark.parametrize("factor", [2.0, 2.5, 4.0])
def test_each_tenfold_distance_costs_ten_n_db(factor: float) -> None:
    assert rssi_to_distance(-59 - 10 * factor, -59, factor) == pytest.approx(10.0)
    assert rssi_to_distance(-59 - 3 * factor, -59, factor) == pytest.approx(10**0.3)


def test_a_larger_environment_factor_reads_the_same_rssi_as_nearer() -> None:
    assert rssi_to_distance(-80, -59, 4.0) < rssi_to_distance(-80, -59, 2.0)
    assert rssi_to_distance(-80, -59, 2.0) == pytest.approx(10 ** (21 / 20))


def test_distances_are_floored() -> None:
    assert rssi_to_distance(-20, -59, 2.5) == pytest.approx(MIN_DISTANCE)
    assert log_distance(0.0) == pytest.approx(math.log10(MIN_DISTANCE))
    assert log_distance(3.0) == pytest.approx(math.log10(3.0))


def test_distance_to_rssi_is_the_inverse() -> None:
    for distance in (0.5, 1.0, 2.7, 12.0):
        rssi = distance_to_rssi(distance, -62, 2.2)
        assert rssi_to_distance(rssi, -62, 2.2) == pytest.approx(distance)
        assert rssi_to_log_distance(rssi, -62, 2.2) == pytest.approx(math.log10(distance))


@pytest.mark.parametrize(
    ("check", "value", "reason", "message"),
    [
        (check_distance, -0.5, PresenceInputReason.BAD_DISTANCE, "must not be negative"),
        (check_distance, 2e6, PresenceInputReason.BAD_DISTANCE, "beyond any space"),
        (check_distance, math.nan, PresenceInputReason.NOT_FINITE, "distance is nan"),
        (check_distance, math.inf, PresenceInputReason.NOT_FINITE, "distance is inf"),
        (check_distance, "1.5", PresenceInputReason.WRONG_TYPE, "must be a number, got str"),
        (check_distance, True, PresenceInputReason.WRONG_TYPE, "must be a number, got bool"),
        (check_distance, None, PresenceInputReason.WRONG_TYPE, "got NoneType"),
        (check_rssi, -127, PresenceInputReason.BAD_RSSI, "rssi must be -126 to 20 dBm"),
        (check_rssi, 25, PresenceInputReason.BAD_RSSI, "got 25"),
        (check_rssi, math.nan, PresenceInputReason.NOT_FINITE, "rssi is nan"),
        (check_measured_power, 0, PresenceInputReason.BAD_MEASURED_POWER, "-127 to -1"),
        (check_measured_power, -59.0, PresenceInputReason.WRONG_TYPE, "must be an integer"),
        (check_time, -math.inf, PresenceInputReason.NOT_FINITE, "time is -inf"),
    ],
)
def test_bad_numbers_are_refused_precisely(
    check: object, value: object, reason: PresenceInputReason, message: str
) -> None:
    assert callable(check)
    with pytest.raises(PresenceInputError, match=message) as caught:
        check(value)
    assert caught.value.reason is reason


def test_good_numbers_pass() -> None:
    assert check_distance(0) == 0.0
    assert check_distance(3) == 3.0
    assert check_rssi(-80) == -80.0
    assert check_measured_power(-59) == -59
    assert check_time(12.5) == 12.5


def test_first_samples_of_a_track_are_averaged_plainly() -> None:
    track = Track(1.0, 0.0)
    track.add(0.0, 0.001, tau=10.0, tau_mean=10.0)  # almost no time: still weight 1/2
    assert track.level == pytest.approx(0.5)
    track.add(0.0, 0.002, tau=10.0, tau_mean=10.0)  # weight 1/3
    assert track.level == pytest.approx(1 / 3)
    assert track.count == 3


def test_track_weights_follow_elapsed_time() -> None:
    track = Track(0.0, 0.0)
    for step in range(1, 30):  # settle past the plain-average start
        track.add(0.0, step * 1.0, tau=1.0, tau_mean=5.0)
    track.add(1.0, 30.0, tau=1.0, tau_mean=5.0)
    assert track.level == pytest.approx(1 - math.exp(-1.0))
    assert track.mean == pytest.approx(1 - math.exp(-0.2))
    track.add(1.0, 40.0, tau=1.0, tau_mean=5.0)  # a long gap: the new sample dominates
    assert track.level == pytest.approx(1.0, abs=1e-4)


def test_no_smoothing_takes_each_sample() -> None:
    track = Track(0.0, 0.0)
    track.add(0.7, 1.0, tau=0.0, tau_mean=0.0)
    assert (track.level, track.mean) == (0.7, 0.7)
    track.reset(0.2, 5.0)
    assert (track.level, track.mean, track.count, track.updated) == (0.2, 0.2, 1, 5.0)


def test_a_track_rises_by_how_far_its_mean_moved_within_the_trend_window() -> None:
    track = Track(0.0, 0.0)
    assert track.rise() == 0.0
    for step in range(1, 11):  # one sample a second, each 0.1 further
        track.add(step / 10, float(step), tau=0.0, tau_mean=0.0)
    # The newest mean at least TREND_WINDOW old is the one at 10 - 5 = 5 s.
    assert track.history[0] == (10.0 - TREND_WINDOW, 0.5)
    assert track.rise() == pytest.approx(1.0 - 0.5)
    track.add(1.0, 12.5, tau=0.0, tau_mean=0.0)  # from 7.5: the one at 7 s
    assert track.rise() == pytest.approx(0.3)
    track.add(0.0, 30.0, tau=0.0, tau_mean=0.0)  # after a gap: from the last one before
    assert track.history == [(12.5, 1.0), (30.0, 0.0)]
    assert track.rise() == pytest.approx(-1.0)
    track.reset(0.4, 40.0)
    assert (track.history, track.rise()) == ([(40.0, 0.4)], 0.0)


def test_a_track_that_follows_another_continues_its_history() -> None:
    first = Track(0.0, 0.0)
    second = Track(0.3, 2.0)  # the next reading of the same thing, made anew
    second.follow(first)
    assert second.history == [(0.0, 0.0), (2.0, 0.3)]
    assert second.rise() == pytest.approx(0.3)
