"""Replaying a synthetic trace through a presence tracker, and scoring it against the truth.

Shared by the engine's tests and ``bench/presence.py``, so both measure the same thing:

- a *flap* is a station change that no true move explains (after the first arrival);
- a move's *latency* runs from the true change (the person passing the midpoint, or the
  door) until the tracker shows the new station, 0 if it already did; a move the tracker
  does not show before the next true move is *missed*.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
import math
from typing import Protocol, runtime_checkable

from .engine import StationChange
from .ibeacon import BeaconId
from .traces import AdvertEvent, ExitEvent, MonitorEvent, ReportEvent, Trace


@runtime_checkable
class PresenceTracker(Protocol):
    """What a replay drives: the engine, or a baseline rule with the same methods."""

    def observe_advert(
        self,
        scanner: str,
        manufacturer_data: Mapping[int, bytes],
        rssi: float,
        at: float,
        address: str | None = None,
    ) -> Sequence[StationChange]:
        """Take one advert."""

    def observe_beacon_monitor(
        self, person: str, attributes: Mapping[str, object], at: float
    ) -> Sequence[StationChange]:
        """Take one Beacon Monitor reading."""

    def observe_report(
        self,
        person: str,
        beacon: BeaconId,
        distance: float,
        at: float,
        project: str | None = None,
    ) -> Sequence[StationChange]:
        """Take one HTTP beacon report."""

    def observe_exit(self, person: str, at: float) -> Sequence[StationChange]:
        """Take one HTTP exit report."""

    def tick(self, now: float) -> Sequence[StationChange]:
        """Let time pass."""


@runtime_checkable
class DeadlineTracker(PresenceTracker, Protocol):
    """A tracker that says when it next needs a tick (as the engine does)."""

    def next_deadline(self) -> float | None:
        """Return when a tick could next change something."""


def replay(
    trace: Trace, tracker: PresenceTracker, tick_interval: float = 1.0
) -> list[StationChange]:
    """Feed every event of a trace in order, ticking every ``tick_interval`` seconds.

    A tracker with ``next_deadline`` is also ticked at its deadlines, as the Home
    Assistant glue schedules it.
    """
    changes: list[StationChange] = []
    next_tick = tick_interval
    deadlines = tracker if isinstance(tracker, DeadlineTracker) else None

    def tick_until(limit: float) -> None:
        nonlocal next_tick
        while True:
            deadline = deadlines.next_deadline() if deadlines is not None else None
            at = next_tick if deadline is None or deadline >= next_tick else deadline
            if at > limit:
                return
            changes.extend(tracker.tick(at))
            if at == next_tick:
                next_tick += tick_interval

    for event in trace.events:
        tick_until(event.at)
        match event:
            case AdvertEvent():
                changes.extend(
                    tracker.observe_advert(
                        event.scanner, event.manufacturer_data, event.rssi, event.at, event.address
                    )
                )
            case MonitorEvent():
                changes.extend(
                    tracker.observe_beacon_monitor(event.person, event.attributes, event.at)
                )
            case ReportEvent():
                changes.extend(
                    tracker.observe_report(
                        event.person, event.beacon, event.distance, event.at, event.project
                    )
                )
            case ExitEvent():
                changes.extend(tracker.observe_exit(event.person, event.at))
    tick_until(trace.duration)
    return changes


@dataclass
class Score:
    """How a tracker did on one or more traces."""

    hours: float = 0.0
    """Person-hours scored."""
    changes: int = 0
    flaps: int = 0
    move_latencies: list[float] = field(default_factory=list)
    """Seconds, per detected move between stations."""
    leave_latencies: list[float] = field(default_factory=list)
    """Seconds, per detected leaving (a true move to away)."""
    missed_moves: int = 0
    missed_leaves: int = 0

    @property
    def flaps_per_hour(self) -> float:
        """Return flaps per person-hour."""
        return self.flaps / self.hours if self.hours else 0.0

    def add(self, other: Score) -> None:
        """Merge another score into this one."""
        self.hours += other.hours
        self.changes += other.changes
        self.flaps += other.flaps
        self.move_latencies += other.move_latencies
        self.leave_latencies += other.leave_latencies
        self.missed_moves += other.missed_moves
        self.missed_leaves += other.missed_leaves


def score(trace: Trace, changes: Sequence[StationChange]) -> Score:
    """Score a replay's changes against the trace's ground truth."""
    result = Score()
    for person in trace.persons:
        result.add(_score_person(trace, person, [c for c in changes if c.person == person]))
    return result


def _score_person(trace: Trace, person: str, changes: list[StationChange]) -> Score:
    result = Score(hours=trace.duration / 3600.0, changes=len(changes))
    explained: set[int] = set()
    if changes and changes[0].from_station is None and trace.start.get(person) is not None:
        explained.add(0)  # the first arrival
    moves = [move for move in trace.moves if move.person == person]
    for number, move in enumerate(moves):
        end = moves[number + 1].at if number + 1 < len(moves) else math.inf
        shown = _station_at(changes, move.at)
        latency: float | None = 0.0 if shown == move.to else None
        if latency is None:
            for index, change in enumerate(changes):
                if move.at <= change.at < end and change.to_station == move.to:
                    latency = change.at - move.at
                    explained.add(index)
                    break
        if move.to is None:
            if latency is None:
                result.missed_leaves += 1
            else:
                result.leave_latencies.append(latency)
        elif latency is None:
            result.missed_moves += 1
        else:
            result.move_latencies.append(latency)
    result.flaps = len(changes) - len(explained)
    return result


def _station_at(changes: Sequence[StationChange], at: float) -> str | None:
    """Return the station the changes show just before time ``at``."""
    station: str | None = None
    for change in changes:
        if change.at >= at:
            break
        station = change.to_station
    return station


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the ``fraction`` quantile (nearest-rank) of values; NaN for none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]
