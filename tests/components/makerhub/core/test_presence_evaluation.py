"""Scoring replays against ground truth: what the benchmark's numbers mean."""

from __future__ import annotations

from dataclasses import replace
import math

import pytest

from custom_components.makerhub.core.presence import (
    BeaconId,
    ChangeCause,
    PresenceEngine,
    Station,
    StationChange,
)
from custom_components.makerhub.core.presence.evaluation import Score, percentile, replay, score
from custom_components.makerhub.core.presence.traces import MonitorEvent, Move, Trace


def trace_with(moves: tuple[Move, ...], start: str | None = "a") -> Trace:
    return Trace(
        name="hand-made",
        duration=3600.0,
        stations=(),
        phones=(),
        events=(),
        start={"p": start},
        moves=moves,
        persons=("p",),
    )


def change(at: float, before: str | None, after: str | None) -> StationChange:
    cause = ChangeCause.MOVED if before and after else ChangeCause.ARRIVED
    return StationChange("p", before, after, at, cause if after else ChangeCause.LEFT)


def test_the_first_arrival_is_no_flap_but_every_unexplained_change_is() -> None:
    trace = trace_with(())
    result = score(trace, [change(2, None, "a"), change(100, "a", "b"), change(101, "b", "a")])
    assert (result.flaps, result.changes, result.hours) == (2, 3, 1.0)
    assert result.flaps_per_hour == 2.0


def test_latency_runs_from_the_true_move_to_the_shown_station() -> None:
    trace = trace_with((Move("p", 50.0, "b"), Move("p", 200.0, None)))
    changes = [change(2, None, "a"), change(53.5, "a", "b"), change(230, "b", None)]
    result = score(trace, changes)
    assert result.move_latencies == [3.5]
    assert result.leave_latencies == [30.0]
    assert result.flaps == 0


def test_a_station_shown_early_has_no_latency_but_its_flapping_counts() -> None:
    trace = trace_with((Move("p", 50.0, "b"),))
    changes = [
        change(2, None, "a"),
        change(45, "a", "b"),
        change(47, "b", "a"),
        change(49, "a", "b"),
    ]
    result = score(trace, changes)
    assert result.move_latencies == [0.0]
    assert result.flaps == 3


def test_moves_not_shown_before_the_next_one_are_missed() -> None:
    trace = trace_with((Move("p", 50.0, "b"), Move("p", 52.0, "c"), Move("p", 90.0, None)))
    changes = [change(2, None, "a"), change(55, "a", "c")]
    result = score(trace, changes)
    assert result.missed_moves == 1
    assert result.move_latencies == [3.0]
    assert result.missed_leaves == 1


def test_a_wrong_first_arrival_is_a_flap() -> None:
    trace = trace_with((), start=None)
    assert score(trace, [change(2, None, "a")]).flaps == 1


def test_scores_add_up() -> None:
    total = Score()
    total.add(Score(hours=1.0, changes=2, flaps=1, move_latencies=[1.0], missed_moves=1))
    total.add(Score(hours=0.5, leave_latencies=[3.0], missed_leaves=2))
    assert total == Score(1.5, 2, 1, [1.0], [3.0], 1, 2)
    assert Score().flaps_per_hour == 0.0


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 0.95) == 19.0
    assert percentile(values, 0.5) == 10.0
    assert percentile([7.0], 0.99) == 7.0
    assert math.isnan(percentile([], 0.5))


def test_replay_ticks_a_tracker_without_deadlines_at_the_interval() -> None:
    class Recorder:
        def __init__(self) -> None:
            self.ticks: list[float] = []

        def tick(self, now: float) -> list[StationChange]:
            self.ticks.append(now)
            return []

    recorder = Recorder()
    replay(trace_with(()), recorder, tick_interval=600.0)  # type: ignore[arg-type]
    assert recorder.ticks == [600.0, 1200.0, 1800.0, 2400.0, 3000.0, 3600.0]


def test_replay_ticks_the_engine_at_its_deadlines_too() -> None:
    beacon = BeaconId("e2c56db5-dffb-48d2-b060-d0f5a71096e0", 1, 1)
    station = Station("a", "Bench A", beacon)
    trace = replace(
        trace_with(()),
        stations=(station,),
        events=(MonitorEvent(0.3, "p", {beacon.key: 1.0}),),  # a reading waits out the dwell
    )
    engine = PresenceEngine(trace.stations)
    arrival, expiry = replay(trace, engine, tick_interval=10.0)
    assert arrival.at == pytest.approx(0.3 + engine.tunables.dwell)  # not at the next tick
    assert expiry.at == pytest.approx(0.3 + engine.tunables.report_ttl)
