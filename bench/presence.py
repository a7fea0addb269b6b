"""Presence: Makerhub's engine against the naive "nearest beacon wins" rule.

Both trackers replay the same seeded synthetic traces (``core/presence/traces.py``) and
are scored by the same code (``core/presence/evaluation.py``):

- flaps per hour while a person stands still half-way between two stations 4 m apart
  with ±6 dB of RSSI noise (any station change after the first arrival is a flap);
- latency to show a real move, from the moment the person walks past the midpoint
  between two benches until the tracker shows the new bench (mean and p95);
- time to show a person as away after they walked out of the door.

The baseline is what simple setups do: every reading makes the nearest station win at
once; a person is away when nothing was heard for the same ``away_timeout``.

Run: ``scripts/bench presence [--seeds N]`` (N scales every scenario; default 60).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
import math
import time

from custom_components.makerhub.core.presence import (
    BeaconId,
    ChangeCause,
    Phone,
    PresenceEngine,
    PresenceSource,
    PresenceTunables,
    Station,
    StationChange,
    beacon_monitor_distances,
    parse_ibeacon,
    rssi_to_distance,
    traces,
)
from custom_components.makerhub.core.presence.evaluation import (
    PresenceTracker,
    Score,
    percentile,
    replay,
    score,
)


class NearestBeaconWins:
    """The baseline: the station with the nearest latest reading wins, at once."""

    def __init__(
        self,
        stations: Sequence[Station],
        phones: Sequence[Phone],
        tunables: PresenceTunables,
    ) -> None:
        self._by_scanner = {scanner: s.id for s in stations for scanner in s.scanners}
        self._by_key = {s.beacon.key: s.id for s in stations}
        self._phones = {phone.beacon: phone.person for phone in phones}
        self._tunables = tunables
        self._readings: dict[str, dict[str, tuple[float, float]]] = {}
        """Person → station → (distance, when) of the latest reading."""
        self._adverts: dict[str, dict[str, float]] = {}
        """Person → station → when a scanner there last heard the phone."""
        self._station: dict[str, str | None] = {}

    def _decide(self, person: str, now: float, source: PresenceSource) -> list[StationChange]:
        readings = self._readings.get(person, {})
        nearest = min(readings, key=lambda s: readings[s][0]) if readings else None
        before = self._station.get(person)
        if nearest == before:
            return []
        self._station[person] = nearest
        cause = ChangeCause.LEFT if nearest is None else ChangeCause.MOVED
        return [StationChange(person, before, nearest, now, cause, source)]

    def observe_advert(
        self,
        scanner: str,
        manufacturer_data: Mapping[int, bytes],
        rssi: float,
        at: float,
        address: str | None = None,
    ) -> list[StationChange]:
        advert = parse_ibeacon(manufacturer_data)
        if advert is None or (person := self._phones.get(advert.beacon)) is None:
            return []
        if (station := self._by_scanner.get(scanner)) is None:
            return []
        distance = rssi_to_distance(rssi, advert.measured_power, self._tunables.environment_factor)
        self._readings.setdefault(person, {})[station] = (distance, at)
        self._adverts.setdefault(person, {})[station] = at
        self._expire(person, at)
        return self._decide(person, at, PresenceSource.BLUETOOTH)

    def observe_beacon_monitor(
        self, person: str, attributes: Mapping[str, object], at: float
    ) -> list[StationChange]:
        distances = beacon_monitor_distances(attributes)
        self._adverts.pop(person, None)
        self._readings[person] = {
            self._by_key[key]: (d, at) for key, d in distances.items() if key in self._by_key
        }
        return self._decide(person, at, PresenceSource.COMPANION_APP)

    def observe_report(
        self,
        person: str,
        beacon: BeaconId,
        distance: float,
        at: float,
        project: str | None = None,
    ) -> list[StationChange]:
        self._adverts.pop(person, None)
        self._readings[person] = {self._by_key[beacon.key]: (distance, at)}
        return self._decide(person, at, PresenceSource.HTTP)

    def observe_exit(self, person: str, at: float) -> list[StationChange]:
        self._adverts.pop(person, None)
        self._readings[person] = {}
        return self._decide(person, at, PresenceSource.HTTP)

    def tick(self, now: float) -> list[StationChange]:
        changes: list[StationChange] = []
        for person in list(self._readings):
            self._expire(person, now)
            changes += self._decide(person, now, PresenceSource.BLUETOOTH)
        return changes

    def _expire(self, person: str, now: float) -> None:
        """Forget Bluetooth readings older than the away timeout (reports stand)."""
        timeout = self._tunables.away_timeout
        readings = self._readings[person]
        adverts = self._adverts.get(person, {})
        for station in [s for s, at in adverts.items() if now - at >= timeout]:
            del adverts[station]
            if station in readings and readings[station][1] <= now - timeout:
                del readings[station]


type TrackerFactory = Callable[[traces.Trace], PresenceTracker]


@dataclass
class Run:
    """Scores and timing of one tracker over a scenario's traces."""

    score: Score
    seconds: float
    events: int


def run(make_traces: list[traces.Trace], factory: TrackerFactory) -> Run:
    """Replay and score every trace with a fresh tracker; time the replays."""
    total = Score()
    elapsed = 0.0
    events = 0
    for trace in make_traces:
        tracker = factory(trace)
        started = time.perf_counter()
        changes = replay(trace, tracker)
        elapsed += time.perf_counter() - started
        events += len(trace.events)
        total.add(score(trace, changes))
    return Run(total, elapsed, events)


def advert_cost(adverts: Sequence[traces.AdvertEvent], tracker: PresenceTracker) -> float:
    """Return the mean microseconds one advert takes, fed straight to the tracker."""
    started = time.perf_counter()
    for e in adverts:
        tracker.observe_advert(e.scanner, e.manufacturer_data, e.rssi, e.at, e.address)
    return 1e6 * (time.perf_counter() - started) / len(adverts)


def mean(values: Sequence[float]) -> float:
    """Return the mean, NaN for none."""
    return sum(values) / len(values) if values else math.nan


def p95(values: Sequence[float]) -> float:
    """Return the 95th percentile, NaN for none."""
    return percentile(values, 0.95)


def per_hour(ours: Run, theirs: Run) -> tuple[float, float]:
    """Return both trackers' flaps per hour."""
    return ours.score.flaps_per_hour, theirs.score.flaps_per_hour


def latency(
    ours: Run, theirs: Run, stat: Callable[[Sequence[float]], float]
) -> tuple[float, float]:
    """Return a statistic of both trackers' move latencies."""
    return stat(ours.score.move_latencies), stat(theirs.score.move_latencies)


def ratio(ours: float, theirs: float) -> str:
    """Return ours / theirs as text."""
    if math.isnan(ours) or math.isnan(theirs):
        return "n/a"
    if theirs == 0:
        return "1.00" if ours == 0 else "inf"
    return f"{ours / theirs:.2f}"


def main() -> None:
    """Run every scenario for both trackers and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=60, help="traces per scenario")
    args = parser.parse_args()
    seeds = range(args.seeds)
    tunables = PresenceTunables()

    def engine(trace: traces.Trace) -> PresenceTracker:
        return PresenceEngine(trace.stations, trace.phones, tunables)

    def naive(trace: traces.Trace) -> PresenceTracker:
        return NearestBeaconWins(trace.stations, trace.phones, tunables)

    ble, app, http = (
        (traces.Source.BLUETOOTH,),
        (traces.Source.COMPANION_APP,),
        (traces.Source.HTTP,),
    )
    scenarios: dict[str, list[traces.Trace]] = {
        "stationary, bluetooth": [traces.stationary_between(s, sources=ble) for s in seeds],
        "stationary, companion app": [traces.stationary_between(s, sources=app) for s in seeds],
        "walking, bluetooth": [traces.walking(s, sources=ble) for s in seeds],
        "walking, bluetooth, rotating MACs": [
            traces.walking(s, sources=ble, mac_rotation=15.0) for s in seeds
        ],
        "walking, companion app": [traces.walking(s, sources=app) for s in seeds],
        "walking, http": [traces.walking(s, sources=http) for s in seeds],
        "leaving, bluetooth": [traces.leaving(s, sources=ble) for s in seeds],
        "leaving, companion app": [traces.leaving(s, sources=app) for s in seeds],
        "leaving, http (exit report)": [traces.leaving(s, sources=http) for s in seeds],
    }
    results = {name: (run(trs, engine), run(trs, naive)) for name, trs in scenarios.items()}

    rows: list[tuple[str, float, float]] = []
    for name, (ours, theirs) in results.items():
        if name.startswith("stationary"):
            hours = f"{ours.score.hours:.0f} h"
            rows.append((f"flaps/hour, {name} ({hours})", *per_hour(ours, theirs)))
        elif name.startswith("walking"):
            moves = f"{len(ours.score.move_latencies)} moves"
            rows.append((f"move latency mean s, {name} ({moves})", *latency(ours, theirs, mean)))
            rows.append((f"move latency p95 s, {name}", *latency(ours, theirs, p95)))
            rows.append((f"flaps/hour, {name}", *per_hour(ours, theirs)))
            if ours.score.missed_moves or theirs.score.missed_moves:
                missed = (ours.score.missed_moves, theirs.score.missed_moves)
                rows.append((f"moves missed, {name}", *missed))
        else:
            away = (mean(ours.score.leave_latencies), mean(theirs.score.leave_latencies))
            rows.append((f"time to away mean s, {name}", *away))
    first, second = scenarios["stationary, bluetooth"][:2]
    mine = [e for e in first.events if isinstance(e, traces.AdvertEvent)]
    others = [e for e in second.events if isinstance(e, traces.AdvertEvent)]
    rows.append(
        (
            "µs per advert of a known phone (hot path)",
            advert_cost(mine, engine(first)),
            advert_cost(mine, naive(first)),
        )
    )
    rows.append(
        (
            "µs per advert of another iBeacon",
            advert_cost(others, engine(first)),
            advert_cost(others, naive(first)),
        )
    )

    radio = traces.Radio()
    print(
        f"Presence: {args.seeds} seeded traces per scenario; radio: path-loss exponent "
        f"{radio.path_loss_exponent}, ±{radio.noise_db:g} dB uniform noise, "
        f"{radio.loss:.0%} loss, adverts every {radio.advert_interval:g} s; "
        f"stations 4 m apart."
    )
    print(f"Makerhub tunables: {tunables}")
    print()
    width = max(len(row[0]) for row in rows)
    print(f"{'metric':<{width}}  {'makerhub':>9}  {'nearest':>9}  {'ratio':>6}")
    print(f"{'-' * width}  {'-' * 9}  {'-' * 9}  {'-' * 6}")
    for label, ours_value, theirs_value in rows:
        print(
            f"{label:<{width}}  {ours_value:>9.2f}  {theirs_value:>9.2f}  "
            f"{ratio(ours_value, theirs_value):>6}"
        )
    flaps = results["stationary, bluetooth"][0].score.flaps
    latency_p95 = p95(results["walking, bluetooth"][0].score.move_latencies)
    verdict = "met" if flaps == 0 and latency_p95 < 5.0 else "NOT met"
    print()
    print(
        f"Target (0 flaps while stationary, p95 move latency < 5 s, bluetooth): {verdict} "
        f"({flaps} flaps, p95 {latency_p95:.2f} s); ratio = makerhub / nearest."
    )
    still = sum(results[f"stationary, {s}"][0].score.flaps for s in ("bluetooth", "companion app"))
    fast = "met" if still == 0 and latency_p95 <= 3.0 else "NOT met"
    print(f"Target (bluetooth p95 <= 3 s, 0 flaps standing still): {fast} ({latency_p95:.2f} s)")
    for name in ("companion app", "http"):
        ours, theirs = latency(*results[f"walking, {name}"], p95)
        verdict = "met" if still == 0 and ours <= 1.3 * theirs else "NOT met"
        print(
            f"Target ({name} p95 <= 1.3 x the nearest-beacon rule's): {verdict} "
            f"({ratio(ours, theirs)} x)"
        )


if __name__ == "__main__":
    main()
