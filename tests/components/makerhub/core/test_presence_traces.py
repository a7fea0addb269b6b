"""The engine on synthetic traces: standing still, walking, leaving, dying beacons, MACs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from custom_components.makerhub.core.presence import (
    ChangeCause,
    PresenceEngine,
    PresenceTunables,
    StationChange,
    parse_ibeacon,
    traces,
)
from custom_components.makerhub.core.presence.evaluation import percentile, replay, score
from custom_components.makerhub.core.presence.traces import AdvertEvent, Source, Trace

DEFAULTS = PresenceTunables()


def run(trace: Trace) -> list[StationChange]:
    return replay(trace, PresenceEngine(trace.stations, trace.phones, DEFAULTS))


def raw_nearest_flips(trace: Trace, first: str, second: str) -> int:
    """Count how often the stronger of two scanners swaps, advert by advert."""
    by_time: dict[float, dict[str, int]] = {}
    for event in trace.events:
        if isinstance(event, AdvertEvent):
            by_time.setdefault(event.at, {})[event.scanner] = event.rssi
    flips, last = 0, None
    for heard in by_time.values():
        if first in heard and second in heard and heard[first] != heard[second]:
            stronger = first if heard[first] > heard[second] else second
            flips += last is not None and stronger != last
            last = stronger
    return flips


@pytest.mark.parametrize("seed", range(6))
def test_standing_still_between_two_stations_for_ten_minutes_does_not_flap(seed: int) -> None:
    trace = traces.stationary_between(seed, duration=600.0)
    # The trace is hard: the raw signal says a different bench is nearer all the time.
    assert raw_nearest_flips(trace, traces.scanner_id(1), traces.scanner_id(2)) > 100
    changes = run(trace)
    assert len(changes) == 1  # the arrival, and nothing after it
    (arrival,) = changes
    assert arrival.cause is ChangeCause.ARRIVED
    assert arrival.to_station in {"bench-a", "bench-b"}
    assert arrival.at < 5.0
    assert score(trace, changes).flaps == 0


@pytest.mark.parametrize("seed", range(4))
def test_standing_still_with_the_companion_app_does_not_flap(seed: int) -> None:
    trace = traces.stationary_between(seed, sources=[Source.COMPANION_APP])
    changes = run(trace)
    assert [c.cause for c in changes] == [ChangeCause.ARRIVED]
    assert score(trace, changes).flaps == 0


def test_walking_between_stations_switches_within_seconds() -> None:
    latencies: list[float] = []
    for seed in range(8):
        trace = traces.walking(seed, moves=10)
        result = score(trace, run(trace))
        assert result.missed_moves == 0
        assert result.flaps == 0
        assert len(result.move_latencies) == 10
        latencies += result.move_latencies
    # From the moment the person passes the midpoint between the benches.
    assert sum(latencies) / len(latencies) < 4.0
    assert percentile(latencies, 0.95) < 5.0
    assert max(latencies) < 6.0


def test_walking_with_the_companion_app_is_slower_but_steady() -> None:
    trace = traces.walking(0, sources=[Source.COMPANION_APP])
    result = score(trace, run(trace))
    assert result.missed_moves == 0
    assert max(result.move_latencies) < 15.0  # the phone smooths and reports on change


@pytest.mark.parametrize("seed", range(4))
def test_leaving_the_space_is_away_within_the_timeout(seed: int) -> None:
    trace = traces.leaving(seed)
    (leave,) = trace.moves
    changes = run(trace)
    assert [(c.to_station, c.cause) for c in changes] == [
        ("bench-b", ChangeCause.ARRIVED),
        (None, ChangeCause.LEFT),
    ]
    away = changes[-1].at - leave.at
    # The last advert is heard just before the door; away exactly a timeout later.
    assert DEFAULTS.away_timeout - 2.0 < away <= DEFAULTS.away_timeout


def test_leaving_with_the_companion_app_is_away_when_the_phone_hears_nothing() -> None:
    trace = traces.leaving(0, sources=[Source.COMPANION_APP])
    (leave,) = trace.moves
    changes = run(trace)
    last = changes[-1]
    assert (last.from_station, last.to_station, last.cause) == ("bench-b", None, ChangeCause.LEFT)
    # The app drops beacons after 10 missed 1.6 s scans, then sends the empty reading.
    assert 16.0 <= last.at - leave.at <= 16.0 + 2 * 1.6


def test_an_exit_report_is_away_at_once() -> None:
    trace = traces.leaving(0, sources=[Source.HTTP])
    (leave,) = trace.moves
    exit_event = next(e for e in trace.events if isinstance(e, traces.ExitEvent))
    changes = run(trace)
    last = changes[-1]
    assert (last.to_station, last.cause, last.at) == (None, ChangeCause.EXIT, exit_event.at)
    assert last.at - leave.at < traces.APP_EXIT_AFTER + 2.0
    assert all(c.at < leave.at for c in changes[:-1])


@pytest.mark.parametrize("seed", range(3))
def test_a_disappearing_beacon_moves_people_to_the_next_one(seed: int) -> None:
    trace = traces.beacon_disappearing(seed, sources=[Source.COMPANION_APP])
    (gone,) = trace.moves  # bench-a's beacon stops: bench-b is the nearest left
    changes = run(trace)
    assert [(c.to_station, c.cause) for c in changes] == [
        ("bench-a", ChangeCause.ARRIVED),
        ("bench-b", ChangeCause.MOVED),
    ]
    # The phone notices after 10 missed scans; never shown away meanwhile.
    assert changes[1].at - gone.at < 10 * 1.6 + 2 * 1.6 + DEFAULTS.dwell


@pytest.mark.parametrize("seed", range(3))
def test_a_dead_scanner_moves_people_to_the_next_one(seed: int) -> None:
    trace = traces.beacon_disappearing(seed, sources=[Source.BLUETOOTH])
    (gone,) = trace.moves
    changes = run(trace)
    assert [(c.to_station, c.cause) for c in changes] == [
        ("bench-a", ChangeCause.ARRIVED),
        ("bench-b", ChangeCause.MOVED),
    ]
    assert changes[1].at - gone.at < DEFAULTS.scanner_timeout + DEFAULTS.dwell + 1.5


@pytest.mark.parametrize("seed", range(3))
def test_rotating_mac_addresses_change_nothing(seed: int) -> None:
    fixed = traces.walking(seed, moves=6)
    rotating = traces.walking(seed, moves=6, mac_rotation=15.0)
    fixed_adverts = [e for e in fixed.events if isinstance(e, AdvertEvent)]
    rotating_adverts = [e for e in rotating.events if isinstance(e, AdvertEvent)]
    assert len({e.address for e in fixed_adverts}) == 1
    assert len({e.address for e in rotating_adverts}) > 10
    # The same readings, only the addresses differ ...
    assert [replace(e, address="") for e in fixed_adverts] == [
        replace(e, address="") for e in rotating_adverts
    ]
    # ... all the same identity ...
    identities = {parse_ibeacon(e.manufacturer_data) for e in rotating_adverts}
    assert len(identities) == 1
    # ... and the same result.
    changes = run(rotating)
    assert changes == run(fixed)
    result = score(rotating, changes)
    assert (result.missed_moves, result.flaps) == (0, 0)


def test_mixed_sources_are_fused_per_person() -> None:
    trace = traces.mixed_sources(0)
    engine = PresenceEngine(trace.stations, trace.phones, DEFAULTS)
    changes = replay(trace, engine)
    result = score(trace, changes)
    assert (result.missed_moves, result.missed_leaves) == (0, 0)
    for move in trace.moves:  # each true move is shown, at the right station
        shown = next(c for c in changes if c.person == move.person and c.at >= move.at)
        assert shown.to_station == move.to
    final = {p.person: p.station for p in engine.people()}
    assert final == {"ada": "bench-b", "bob": "bench-b", "cyd": "bench-a", "dee": None}
    assert engine.occupants("bench-b") == {"ada", "bob"}
    space = engine.space()
    assert space.present == {"ada", "bob", "cyd"}
    assert space.projects == {"cyd": "robot-arm"}


def test_traces_are_seeded() -> None:
    assert traces.walking(3, moves=3) == traces.walking(3, moves=3)
    assert traces.walking(3, moves=3).events != traces.walking(4, moves=3).events
    assert traces.walking(3, moves=3).name == "walking between stations"


def test_paths_interpolate_and_end_outside() -> None:
    start, door = traces.Point(0.0, 0.0), traces.Point(4.0, 0.0)
    path = traces.Path(((0.0, start), (10.0, start), (12.0, door), (12.5, None)))
    assert path.at(-1.0) == start
    assert path.at(11.0) == traces.Point(2.0, 0.0)
    assert path.at(12.2) == door
    assert path.at(13.0) is None
    assert start.distance(door) == pytest.approx((16 + traces.HEIGHT_OFFSET**2) ** 0.5)
