"""Seeded synthetic presence traces, shaped like what Home Assistant would deliver.

A trace places stations on a floor plan and moves people along paths; a simulated radio
turns that into the observations the engine takes, with their ground truth:

- Bluetooth adverts: each phone transmits its iBeacon about once a second; every station
  scanner within range hears it with a probability, at ``measured_power - 10 n log10(d)``
  plus uniform noise of ±``noise_db``. Addresses rotate if asked (identity stays).
- Companion-app Beacon Monitor readings: the phone scans every 1.6 s, smooths each
  beacon's RSSI and sends its attributes by the app's rules (a beacon appears or expires
  after 10 missed scans, the order changes, or a distance moves by more than 0.5 m).
- HTTP reports from a custom app: the nearest beacon when it (or its distance, by more
  than 1 m) changes, and an exit when the phone has heard no beacon for 10 s.

Ground truth is the nearest working station while a person is inside, or None outside;
its changes after the start are the trace's :class:`Move` list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
import itertools
import math
import random
from typing import Final

from .config import Phone, Station
from .ibeacon import APPLE_COMPANY_ID, BeaconId, build_ibeacon_payload

STATION_UUID: Final = "e2c56db5-dffb-48d2-b060-d0f5a71096e0"
"""The uuid of the synthetic stations' beacons (major 1, minor = station number)."""
TRUTH_STEP: Final = 0.05
"""Seconds between ground-truth samples."""
HEIGHT_OFFSET: Final = 0.5
"""Metres between a phone and a beacon on the bench vertically: no distance is zero."""
MONITOR_EXPIRY_SCANS: Final = 10
"""Scans a beacon may go unheard before the companion app drops it."""
MONITOR_DISTANCE_STEP: Final = 0.5
"""Metres a distance must move before the companion app reports it."""
APP_REPORT_STEP: Final = 1.0
"""Metres the nearest distance must move before the custom app reports it."""
APP_EXIT_AFTER: Final = 10.0
"""Seconds without any beacon before the custom app reports an exit."""


class Source(StrEnum):
    """The kinds of observation a simulated phone produces."""

    BLUETOOTH = "bluetooth"
    COMPANION_APP = "companion_app"
    HTTP = "http"


@dataclass(frozen=True, slots=True)
class Point:
    """A position on the floor plan, in metres."""

    x: float
    y: float

    def distance(self, other: Point) -> float:
        """Return the distance to another point, including the vertical offset."""
        return math.sqrt((self.x - other.x) ** 2 + (self.y - other.y) ** 2 + HEIGHT_OFFSET**2)


@dataclass(frozen=True, slots=True)
class Radio:
    """How the simulated radio behaves."""

    path_loss_exponent: float = 2.5
    noise_db: float = 6.0
    """Uniform RSSI noise, ±dB, on every reading."""
    loss: float = 0.1
    """Probability that one reading is lost."""
    range_m: float = 15.0
    advert_interval: float = 1.0
    """Seconds between a phone's adverts (each jittered by ±10%)."""
    scan_interval: float = 1.6
    """Seconds between the companion app's scans (1.1 s scan + 0.5 s pause)."""
    measured_power: int = -59
    phone_smoothing: float = 0.35
    """Weight of a new reading in the phone's own RSSI smoothing."""


@dataclass(frozen=True, slots=True)
class Path:
    """Where a person is over time: waypoints, straight lines between them.

    A waypoint position of None means outside the space (nothing hears the phone); the
    person is outside from that waypoint until the next one inside.
    """

    waypoints: tuple[tuple[float, Point | None], ...]

    def at(self, t: float) -> Point | None:
        """Return the position at time ``t``."""
        points = self.waypoints
        if t <= points[0][0]:
            return points[0][1]
        for (t0, p0), (t1, p1) in itertools.pairwise(points):
            if t0 <= t < t1:
                if p0 is None or p1 is None:
                    return p0
                f = (t - t0) / (t1 - t0)
                return Point(p0.x + f * (p1.x - p0.x), p0.y + f * (p1.y - p0.y))
        return points[-1][1]


@dataclass(frozen=True, slots=True)
class PersonPlan:
    """One simulated person: their phone, path and which sources their phone uses."""

    person: str
    phone: BeaconId
    path: Path
    sources: frozenset[Source]
    mac_rotation: float | None = None
    """Seconds between the phone's address changes (None: a fixed address)."""
    project: str | None = None


@dataclass(frozen=True, slots=True)
class AdvertEvent:
    """A station scanner heard a phone's iBeacon advert."""

    at: float
    scanner: str
    address: str
    manufacturer_data: dict[int, bytes]
    rssi: int


@dataclass(frozen=True, slots=True)
class MonitorEvent:
    """The companion app sent its Beacon Monitor sensor (state ``Monitoring``)."""

    at: float
    person: str
    attributes: dict[str, object]


@dataclass(frozen=True, slots=True)
class ReportEvent:
    """A custom app reported the nearest beacon over HTTP."""

    at: float
    person: str
    beacon: BeaconId
    distance: float
    project: str | None


@dataclass(frozen=True, slots=True)
class ExitEvent:
    """A custom app reported that the phone is far from every beacon."""

    at: float
    person: str


type TraceEvent = AdvertEvent | MonitorEvent | ReportEvent | ExitEvent


@dataclass(frozen=True, slots=True)
class Move:
    """Ground truth: at ``at`` the person's nearest working station became ``to``."""

    person: str
    at: float
    to: str | None


@dataclass(frozen=True, slots=True)
class Trace:
    """A synthetic scenario: configuration, observations in time order, and ground truth."""

    name: str
    duration: float
    stations: tuple[Station, ...]
    phones: tuple[Phone, ...]
    events: tuple[TraceEvent, ...]
    start: dict[str, str | None]
    """Each person's true station at time 0."""
    moves: tuple[Move, ...]
    """True station changes after time 0, in time order."""
    persons: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Layout:
    """Stations on the floor plan (and when a station's beacon or scanner dies)."""

    positions: dict[str, Point]
    dies_at: dict[str, float] = field(default_factory=dict)

    def stations(self) -> tuple[Station, ...]:
        """Return the engine's view of the stations: beacon and one scanner each."""
        return tuple(
            Station(
                id=station_id,
                name=f"Bench {station_id.rsplit('-', 1)[-1].upper()}",
                beacon=BeaconId(STATION_UUID, 1, number),
                scanners=frozenset({scanner_id(number)}),
            )
            for number, station_id in enumerate(self.positions, start=1)
        )

    def alive(self, station_id: str, t: float) -> bool:
        """Return whether the station's beacon and scanner work at time ``t``."""
        return t < self.dies_at.get(station_id, math.inf)


def scanner_id(number: int) -> str:
    """Return the scanner id of station number ``number``, shaped like an adapter address."""
    return f"AA:BB:CC:00:00:{number:02X}"


def bench_row(count: int = 3, spacing: float = 4.0) -> Layout:
    """Return ``count`` stations in a row, ``spacing`` metres apart, along y = 0."""
    return Layout({f"bench-{chr(ord('a') + i)}": Point(i * spacing, 0.0) for i in range(count)})


STAND_OFF: Final = 0.7
"""Metres a person stands in front of a station."""
WALK_SPEED: Final = 1.2
"""Metres per second."""


def spot(layout: Layout, station_id: str) -> Point:
    """Return where a person working at a station stands."""
    where = layout.positions[station_id]
    return Point(where.x, where.y + STAND_OFF)


def _random_mac(rng: random.Random) -> str:
    return ":".join(f"{rng.randrange(256):02X}" for _ in range(6))


def _phone_beacon(rng: random.Random) -> BeaconId:
    raw = rng.getrandbits(128).to_bytes(16)
    return BeaconId(raw.hex(), 100, rng.randrange(1, 1000))


class _Simulator:
    """Turns people's paths into observations (internal)."""

    def __init__(self, layout: Layout, radio: Radio, rng: random.Random) -> None:
        self.layout = layout
        self.radio = radio
        self.rng = rng
        self.stations = layout.stations()
        self.events: list[TraceEvent] = []

    def rssi(self, distance: float) -> float:
        radio = self.radio
        noise = self.rng.uniform(-radio.noise_db, radio.noise_db)
        return radio.measured_power - 10 * radio.path_loss_exponent * math.log10(distance) + noise

    def heard(self, where: Point | None, station: Station, t: float) -> float | None:
        """Return the distance if this reading of the station gets through, else None."""
        if where is None or not self.layout.alive(station.id, t):
            return None
        distance = where.distance(self.layout.positions[station.id])
        if distance > self.radio.range_m or self.rng.random() < self.radio.loss:
            return None
        return distance

    def adverts(self, plan: PersonPlan, duration: float) -> None:
        radio = self.radio
        payload = {APPLE_COMPANY_ID: build_ibeacon_payload(plan.phone, radio.measured_power)}
        # Addresses come from their own generator, so a trace with rotating addresses
        # carries exactly the readings of the same trace without.
        macs = random.Random(plan.phone.key)  # noqa: S311  (simulation, not security)
        address = _random_mac(macs)
        rotated = 0.0
        t = self.rng.uniform(0.0, radio.advert_interval)
        while t < duration:
            if plan.mac_rotation is not None and t - rotated >= plan.mac_rotation:
                address = _random_mac(macs)
                rotated = t
            where = plan.path.at(t)
            for number, station in enumerate(self.stations, start=1):
                if (distance := self.heard(where, station, t)) is not None:
                    rssi = round(self.rssi(distance))
                    self.events.append(AdvertEvent(t, scanner_id(number), address, payload, rssi))
            t += radio.advert_interval * self.rng.uniform(0.9, 1.1)

    def phone_scans(
        self,
        plan: PersonPlan,
        duration: float,
        send: Callable[[float, dict[str, float], bool], None],
    ) -> None:
        """Simulate the phone ranging the stations' beacons.

        ``send`` gets each scan: the smoothed distances the app keeps, and whether the
        scan heard any beacon at all.
        """
        radio = self.radio
        smoothed: dict[str, float] = {}
        missed: dict[str, int] = {}
        t = self.rng.uniform(0.0, radio.scan_interval)
        while t < duration:
            where = plan.path.at(t)
            heard = False
            for station in self.stations:
                key = station.beacon.key
                distance = self.heard(where, station, t)
                heard = heard or distance is not None
                if distance is None:
                    if key in smoothed:
                        missed[key] += 1
                        if missed[key] > MONITOR_EXPIRY_SCANS:
                            del smoothed[key], missed[key]
                    continue
                rssi = self.rssi(distance)
                old = smoothed.get(key)
                smoothed[key] = rssi if old is None else old + radio.phone_smoothing * (rssi - old)
                missed[key] = 0
            send(
                t,
                {
                    key: round(
                        10 ** ((radio.measured_power - rssi) / (10 * radio.path_loss_exponent)), 2
                    )
                    for key, rssi in smoothed.items()
                },
                heard,
            )
            t += radio.scan_interval * self.rng.uniform(0.97, 1.03)

    def monitor(self, plan: PersonPlan, duration: float) -> None:
        sent: dict[str, float] = {}

        def send(t: float, distances: dict[str, float], _heard: bool) -> None:
            nonlocal sent
            order = sorted(distances, key=distances.__getitem__)
            changed = (
                set(distances) != set(sent)
                or order != sorted(sent, key=sent.__getitem__)
                or any(abs(distances[k] - sent[k]) > MONITOR_DISTANCE_STEP for k in distances)
            )
            if not changed:
                return
            sent = distances
            attributes: dict[str, object] = {key: distances[key] for key in order}
            attributes["options"] = ["Monitoring", "Stopped", "Bluetooth is turned off"]
            attributes["friendly_name"] = f"{plan.person} Beacon Monitor"
            self.events.append(MonitorEvent(t, plan.person, attributes))

        self.phone_scans(plan, duration, send)

    def custom_app(self, plan: PersonPlan, duration: float) -> None:
        by_key = {station.beacon.key: station.beacon for station in self.stations}
        last: tuple[str, float] | None = None
        last_heard: float | None = None
        exited = True

        def send(t: float, distances: dict[str, float], heard: bool) -> None:
            nonlocal last, last_heard, exited
            if heard:
                last_heard = t
            elif not exited and last_heard is not None and t - last_heard >= APP_EXIT_AFTER:
                self.events.append(ExitEvent(t, plan.person))
                exited = True
                last = None
                return
            if not distances or not heard:
                return
            nearest = min(distances, key=distances.__getitem__)
            distance = distances[nearest]
            if (
                last is None
                or last[0] != nearest
                or abs(last[1] - distance) > APP_REPORT_STEP
                or exited
            ):
                self.events.append(
                    ReportEvent(t, plan.person, by_key[nearest], distance, plan.project)
                )
                last = (nearest, distance)
                exited = False

        self.phone_scans(plan, duration, send)

    def truth(self, plan: PersonPlan, duration: float) -> tuple[str | None, list[Move]]:
        def nearest(t: float) -> str | None:
            where = plan.path.at(t)
            if where is None:
                return None
            alive = [s.id for s in self.stations if self.layout.alive(s.id, t)]
            if not alive:
                return None
            return min(alive, key=lambda s: where.distance(self.layout.positions[s]))

        start = current = nearest(0.0)
        moves: list[Move] = []
        steps = int(duration / TRUTH_STEP)
        for step in range(1, steps + 1):
            t = step * TRUTH_STEP
            if (now := nearest(t)) != current:
                moves.append(Move(plan.person, t, now))
                current = now
        return start, moves


def simulate(
    name: str,
    layout: Layout,
    plans: Sequence[PersonPlan],
    duration: float,
    *,
    seed: int,
    radio: Radio | None = None,
) -> Trace:
    """Simulate people following their plans and return the trace."""
    rng = random.Random(seed)  # noqa: S311  (simulation, not security)
    sim = _Simulator(layout, radio if radio is not None else Radio(), rng)
    start: dict[str, str | None] = {}
    moves: list[Move] = []
    for plan in plans:
        if Source.BLUETOOTH in plan.sources:
            sim.adverts(plan, duration)
        if Source.COMPANION_APP in plan.sources:
            sim.monitor(plan, duration)
        if Source.HTTP in plan.sources:
            sim.custom_app(plan, duration)
        start[plan.person], person_moves = sim.truth(plan, duration)
        moves.extend(person_moves)
    phones = tuple(
        Phone(plan.phone, plan.person) for plan in plans if Source.BLUETOOTH in plan.sources
    )
    return Trace(
        name=name,
        duration=duration,
        stations=sim.stations,
        phones=phones,
        events=tuple(sorted(sim.events, key=lambda event: event.at)),
        start=start,
        moves=tuple(sorted(moves, key=lambda move: move.at)),
        persons=tuple(plan.person for plan in plans),
    )


def _sources(sources: Iterable[Source | str]) -> frozenset[Source]:
    return frozenset(Source(source) for source in sources)


def stationary_between(
    seed: int,
    *,
    duration: float = 600.0,
    sources: Iterable[Source | str] = (Source.BLUETOOTH,),
    radio: Radio | None = None,
) -> Trace:
    """Return a person standing still half-way between two stations 4 m apart."""
    layout = bench_row(3)
    rng = random.Random(seed)  # noqa: S311  (simulation, not security)
    a, b = layout.positions["bench-a"], layout.positions["bench-b"]
    middle = Point((a.x + b.x) / 2, STAND_OFF)
    plan = PersonPlan("alice", _phone_beacon(rng), Path(((0.0, middle),)), _sources(sources))
    return simulate(
        "stationary between two stations", layout, [plan], duration, seed=seed, radio=radio
    )


def walking(
    seed: int,
    *,
    moves: int = 10,
    sources: Iterable[Source | str] = (Source.BLUETOOTH,),
    mac_rotation: float | None = None,
    radio: Radio | None = None,
) -> Trace:
    """Return a person walking between neighbouring benches, working 20-40 s at each."""
    layout = bench_row(3)
    rng = random.Random(seed)  # noqa: S311  (simulation, not security)
    order = ["bench-a", "bench-b", "bench-c", "bench-b"]
    t = rng.uniform(20.0, 40.0)
    waypoints: list[tuple[float, Point | None]] = [(0.0, spot(layout, "bench-a"))]
    here = "bench-a"
    for step in range(1, moves + 1):
        there = order[step % len(order)]
        waypoints.append((t, spot(layout, here)))
        t += spot(layout, here).distance(spot(layout, there)) / WALK_SPEED
        waypoints.append((t, spot(layout, there)))
        t += rng.uniform(20.0, 40.0)
        here = there
    plan = PersonPlan(
        "alice", _phone_beacon(rng), Path(tuple(waypoints)), _sources(sources), mac_rotation
    )
    return simulate("walking between stations", layout, [plan], t, seed=seed, radio=radio)


DOOR: Final = Point(4.0, 6.0)
"""Where people leave the space: straight behind bench-b (bench-a is at the origin)."""


def leaving(
    seed: int,
    *,
    sources: Iterable[Source | str] = (Source.BLUETOOTH,),
    radio: Radio | None = None,
) -> Trace:
    """Return a person working at a bench, then walking out of the door."""
    layout = bench_row(3)
    rng = random.Random(seed)  # noqa: S311  (simulation, not security)
    start = spot(layout, "bench-b")
    left = rng.uniform(40.0, 80.0)
    out = left + start.distance(DOOR) / WALK_SPEED
    path = Path(((0.0, start), (left, start), (out, DOOR), (out + 0.01, None)))
    plan = PersonPlan("alice", _phone_beacon(rng), path, _sources(sources))
    return simulate("leaving the space", layout, [plan], out + 120.0, seed=seed, radio=radio)


def beacon_disappearing(
    seed: int,
    *,
    sources: Iterable[Source | str] = (Source.COMPANION_APP,),
    radio: Radio | None = None,
) -> Trace:
    """Return a person working at bench A when its beacon (and scanner) stops for good."""
    rng = random.Random(seed)  # noqa: S311  (simulation, not security)
    layout = bench_row(3)
    layout = Layout(layout.positions, {"bench-a": rng.uniform(60.0, 90.0)})
    plan = PersonPlan(
        "alice", _phone_beacon(rng), Path(((0.0, spot(layout, "bench-a")),)), _sources(sources)
    )
    return simulate(
        "a station's beacon disappearing", layout, [plan], 180.0, seed=seed, radio=radio
    )


def mixed_sources(seed: int, *, radio: Radio | None = None) -> Trace:
    """Return four people using different sources, moving about and one leaving."""
    rng = random.Random(seed)  # noqa: S311  (simulation, not security)
    layout = bench_row(3)
    a, b, c = (spot(layout, s) for s in ("bench-a", "bench-b", "bench-c"))
    walk_ab = a.distance(b) / WALK_SPEED

    def visit(first: Point, second: Point, leave_at: float) -> Path:
        return Path(((0.0, first), (leave_at, first), (leave_at + walk_ab, second)))

    out = 80.0 + b.distance(DOOR) / WALK_SPEED
    plans = [
        PersonPlan("ada", _phone_beacon(rng), visit(a, b, 60.0), _sources([Source.BLUETOOTH])),
        PersonPlan("bob", _phone_beacon(rng), visit(c, b, 90.0), _sources([Source.COMPANION_APP])),
        PersonPlan(
            "cyd",
            _phone_beacon(rng),
            visit(b, a, 120.0),
            _sources([Source.HTTP]),
            project="robot-arm",
        ),
        PersonPlan(
            "dee",
            _phone_beacon(rng),
            Path(((0.0, b), (80.0, b), (out, DOOR), (out + 0.01, None))),
            _sources([Source.BLUETOOTH, Source.COMPANION_APP]),
            mac_rotation=30.0,
        ),
    ]
    return simulate("mixed sources", layout, plans, 240.0, seed=seed, radio=radio)
