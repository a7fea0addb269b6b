"""The presence engine: fuses every source into who is at which station, or away.

Three sources feed it, each turned into a smoothed ``log10(distance)`` per person and
station (a :class:`~.smoothing.Track`):

- Bluetooth scanners at stations hearing the iBeacon a person's phone transmits
  (:meth:`PresenceEngine.observe_advert`): one smoothed track per scanner, counting once
  it heard ``min_adverts`` and until it heard nothing for ``scanner_timeout``.
- The companion app's Beacon Monitor, which measures the phone's distance to the stations'
  beacons (:meth:`PresenceEngine.observe_beacon_monitor`): each reading (already smoothed
  by the phone) replaces the previous one; it stands for ``report_ttl`` because the app
  only reports changes.
- Custom apps over HTTP naming the nearest beacon, or an exit
  (:meth:`PresenceEngine.observe_report`, :meth:`PresenceEngine.observe_exit`).

Per station the freshest source's estimate counts (the nearest scanner's, if a station
has several). The person's candidate is the nearest station. A person moves to it only
when the evidence that it is nearer than the current station by more than
``switch_margin`` adds up (a CUSUM of the lead beyond the margin over time: ``dwell``
seconds at twice the margin, less for a bigger lead, more for a smaller one), weighed by
what the candidate's source is (:data:`SWITCH_RULES`: a Bluetooth station within a metre
takes over at once, a companion-app reading counts with its trend, an HTTP report is the
app's decision and is taken at once). A walk takes over at once too: the candidate leads
by the margin and the lead on the slower means grew by the source's ``walk`` within
:data:`~.smoothing.TREND_WINDOW` seconds, which noise around a person standing still
does not do. A person arrives from away (or leaves a station that went silent) after
``dwell`` seconds of evidence, to the nearest station on the slower mean, and is away
when no evidence is left and no advert came for ``away_timeout`` (or at once on an explicit exit).

Time is always passed in: the engine never reads a clock, so replays are deterministic.
The caller uses one monotonic clock for every call and calls :meth:`PresenceEngine.tick`
regularly (or at :meth:`PresenceEngine.next_deadline`) so that dwell and timeouts fire
when nothing is heard. Every method returns the station changes it caused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
import math
from typing import Final, NoReturn

from .companion import beacon_monitor_distances
from .config import Phone, PresenceConfig, PresenceTunables, Station
from .distance import (
    MAX_RSSI,
    MIN_RSSI,
    check_distance,
    check_measured_power,
    check_rssi,
    check_time,
    log_distance,
    rssi_to_log_distance,
)
from .errors import IgnoredReason, PresenceInputError, PresenceInputReason
from .http_report import PresenceReport, check_project
from .ibeacon import (
    APPLE_COMPANY_ID,
    IBEACON_DATA_LENGTH,
    IBEACON_PAYLOAD_LENGTH,
    IBEACON_TYPE,
    IDENTITY_SLICE,
    MEASURED_POWER_INDEX,
    BeaconId,
    IBeaconAdvert,
    parse_ibeacon_payload,
)
from .smoothing import Track


class PresenceSource(StrEnum):
    """Where a person's position came from."""

    BLUETOOTH = "bluetooth"
    """A station's Bluetooth scanner heard the person's phone."""
    COMPANION_APP = "companion_app"
    """The phone's companion app measured the stations' beacons (Beacon Monitor)."""
    HTTP = "http"
    """A custom app reported the nearest beacon over HTTP."""


class ChangeCause(StrEnum):
    """Why a person's station changed."""

    ARRIVED = "arrived"
    """From away to a station."""
    MOVED = "moved"
    """From one station to another."""
    LEFT = "left"
    """To away: every reading expired, or the phone reported hearing nothing."""
    EXIT = "exit"
    """To away: an explicit exit report."""
    RECONFIGURED = "reconfigured"
    """To away: the station or the person was removed."""


@dataclass(frozen=True, slots=True)
class StationChange:
    """A person changed station; ``None`` stands for away."""

    person: str
    from_station: str | None
    to_station: str | None
    at: float
    cause: ChangeCause
    source: PresenceSource | None = None
    """The source that placed the person at ``to_station`` (None when away)."""
    distance: float | None = None
    """Metres to ``to_station`` at the time of the change (None when away)."""


@dataclass(frozen=True, slots=True)
class PersonPresence:
    """What the engine knows about one person."""

    person: str
    station: str | None
    """The station id, or None when away."""
    distance: float | None
    """Metres to the station, from the freshest estimate; None when away."""
    source: PresenceSource | None
    last_seen: float | None
    """When the latest accepted evidence of this person was taken."""
    since: float | None
    """When the person arrived at the current station (or went away)."""
    project: str | None
    """The project a custom app last reported for the person, while present."""

    @property
    def is_away(self) -> bool:
        """Return whether the person is at no station."""
        return self.station is None


@dataclass(frozen=True, slots=True)
class SpaceState:
    """Who is in the space, and who of them reported a project."""

    present: frozenset[str]
    projects: Mapping[str, str]
    """Person → project, for present people with a reported project."""

    def is_active(self, *, require_project: bool) -> bool:
        """Return whether the space is active: anyone present (with a project, if asked)."""
        return bool(self.projects) if require_project else bool(self.present)


@dataclass
class PresenceStats:
    """Counters for diagnostics: accepted, refused and ignored observations."""

    accepted: Counter[PresenceSource] = field(default_factory=Counter)
    refused: Counter[PresenceInputReason] = field(default_factory=Counter)
    ignored: Counter[IgnoredReason] = field(default_factory=Counter)
    last_refusal: dict[str, str] = field(default_factory=dict)
    """The newest refusal message per reason."""
    late: int = 0
    """Observations timestamped before the engine's clock (processed at their own time)."""

    def as_dict(self) -> dict[str, object]:
        """Return the counters as plain data."""
        return {
            "accepted": dict(self.accepted),
            "refused": dict(self.refused),
            "refused_total": sum(self.refused.values()),
            "ignored": dict(self.ignored),
            "last_refusal": dict(self.last_refusal),
            "late": self.late,
        }


class _Person:
    """Mutable state of one person (internal)."""

    __slots__ = (
        "address",
        "distance",
        "evaluated_at",
        "evidence",
        "evidence_at",
        "exited_at",
        "last_advert",
        "last_seen",
        "lead",
        "margin",
        "monitor_tracks",
        "name",
        "pending",
        "project",
        "report_tracks",
        "scanner_tracks",
        "since",
        "source",
        "station",
        "threshold",
        "unmatched_since",
        "unmatched_wait",
    )

    def __init__(self, name: str) -> None:
        self.name = name
        self.station: str | None = None
        self.since: float | None = None
        self.distance: float | None = None
        self.source: PresenceSource | None = None
        self.last_seen: float | None = None
        self.last_advert: float | None = None
        self.pending: str | None = None
        """The station gathering evidence against the current one."""
        self.lead = 0.0
        """How much nearer (log10 ratio) the pending station was than the current one."""
        self.evidence = 0.0
        """Accumulated lead beyond the margin, in log10-ratio seconds (a CUSUM)."""
        self.evidence_at = 0.0
        self.margin = 0.0
        """The margin the pending station's lead is held against (its source's rule)."""
        self.threshold = 0.0
        """The evidence that moves the person to the pending station (its source's rule)."""
        self.evaluated_at = -math.inf
        self.unmatched_since: float | None = None
        """Since when there is evidence but none for the current station (or none is)."""
        self.unmatched_wait = 0.0
        """Seconds such evidence must last before the person goes to the nearest station."""
        self.scanner_tracks: dict[str, Track] = {}
        self.monitor_tracks: dict[str, Track] = {}
        self.report_tracks: dict[str, Track] = {}
        self.project: str | None = None
        self.exited_at: float | None = None
        self.address: str | None = None

    def has_evidence(self) -> bool:
        return bool(self.scanner_tracks or self.monitor_tracks or self.report_tracks)

    def clear_evidence(self) -> None:
        self.scanner_tracks.clear()
        self.monitor_tracks.clear()
        self.report_tracks.clear()
        self.pending = None
        self.unmatched_since = None
        self.last_advert = None

    def seen(self, at: float) -> None:
        if self.last_seen is None or at > self.last_seen:
            self.last_seen = at


@dataclass(frozen=True, slots=True)
class SwitchRule:
    """How much one source's evidence must say before a person moves on it.

    Scales of the tunables, per the source of the candidate station's evidence: the
    tunables are set for raw Bluetooth adverts; a source that filters its readings
    itself needs less margin or dwell on top.
    """

    margin: float
    """Factor on ``switch_margin`` (as a log10 lead) for a lead to count."""
    dwell: float
    """Factor on ``dwell`` for the evidence (the CUSUM's threshold) that moves a person."""
    arrive: float
    """Factor on ``dwell`` for the wait to arrive (or to leave a silent station)."""
    near: float = 0.0
    """Metres: a candidate station this near (and nearer than the current one by the
    margin) is where the person is, at once; 0 for never."""
    walk: float = math.inf
    """A walk: when the candidate leads by the margin and the lead grew by this much
    (log10 ratio, on the slower means) over the last :data:`~.smoothing.TREND_WINDOW`
    seconds, the person moves at once; infinity for never."""


SWITCH_RULES: Final[Mapping[PresenceSource, SwitchRule]] = {
    # A phone within a metre of a station's scanner, and by the margin nearer than the
    # current station, is at that station: at a bench 3 m or more from the next one,
    # RSSI noise does not bring a person standing between two benches that near. A walk
    # shows as the lead growing on the slower means, by a factor 10**0.45 (2.8) within
    # TREND_WINDOW: standing still, their noise stays below that (1 flap in 50 h of the
    # benchmark's traces; 0.4 flapped twice, 0.5 gave a p95 of 3.1 s).
    PresenceSource.BLUETOOTH: SwitchRule(margin=1.0, dwell=1.0, arrive=1.0, near=1.0, walk=0.45),
    # The phone's own smoothing is slow, yet its order flips while a person stands between
    # two benches: its readings are weighed with their trend (PHONE_LAG), which is noisier
    # than the phone's average, against the full margin and a longer dwell (the full
    # dwell flaps once in 10 h on the benchmark's traces). A walk is what the phone's own
    # average says: its lead grew by a factor 10**0.6 (4) within TREND_WINDOW; standing
    # still the phone's average does not drift that far.
    PresenceSource.COMPANION_APP: SwitchRule(margin=1.0, dwell=1.3, arrive=1.0, walk=0.6),
    # A custom app names only the nearest beacon: there is nothing to compare it with, so
    # the report is the app's decision and is taken at once.
    PresenceSource.HTTP: SwitchRule(margin=1.0, dwell=0.0, arrive=0.0),
}


PHONE_LAG: Final = 2.0
"""Seconds the companion app's own RSSI average is taken to lag a walk by.

A reading's decision level is its distance plus the trend since the phone's previous
reading of that beacon, over this many seconds: a walk shows on the trend before the
phone's average catches up. Less than the lag of the phone's filter (about 3.7 s for the
simulated app), so the engine under-corrects an unknown filter instead of overshooting;
the distance shown stays the phone's.
"""
PHONE_LAG_GAIN_MAX: Final = 2.0
"""Cap on the trend's weight (``PHONE_LAG`` / seconds between readings): readings a
moment apart say little about a trend."""

_NO_CHANGES: Final[tuple[StationChange, ...]] = ()
_NUMBER_TYPES: Final = frozenset({int, float})
"""Exact types taken without further checks on the hot path (bool is no number here)."""
_EPSILON: Final = 1e-9
"""Slack for float rounding, so a tick at :meth:`PresenceEngine.next_deadline` decides."""


class PresenceEngine:
    """Fuses presence observations into each person's station; see the module docstring.

    Observation methods raise :class:`PresenceInputError` for bad input (after counting
    it in :attr:`stats`) and leave the state untouched; the caller catches it (and answers
    400 on the HTTP endpoint). Input that is well formed but not ours (other iBeacons,
    scanners at no station) is ignored and counted.
    """

    def __init__(
        self,
        stations: Iterable[Station],
        phones: Iterable[Phone] = (),
        tunables: PresenceTunables | None = None,
    ) -> None:
        """Start with no one present; raise PresenceConfigError for a bad configuration."""
        self._config = PresenceConfig.build(stations, phones)
        self._tunables = tunables if tunables is not None else PresenceTunables()
        self._people: dict[str, _Person] = {}
        self._occupants: dict[str, set[str]] = {s.id: set() for s in self._config.stations}
        self._clock = float("-inf")
        self.stats = PresenceStats()

    # -- configuration -------------------------------------------------------------------

    @property
    def config(self) -> PresenceConfig:
        """Return the stations and phones in use."""
        return self._config

    @property
    def tunables(self) -> PresenceTunables:
        """Return the tunables in use."""
        return self._tunables

    def reconfigure(
        self,
        stations: Iterable[Station],
        phones: Iterable[Phone] = (),
        tunables: PresenceTunables | None = None,
        *,
        now: float,
    ) -> tuple[StationChange, ...]:
        """Switch to new stations, phones or tunables, keeping what still applies.

        Evidence for removed stations, moved scanners and people without a phone any more
        is dropped; people at a removed station go away (and may be placed again by the
        evidence left).
        """
        config = PresenceConfig.build(stations, phones)
        now = self._advance(check_time(now))
        old = self._config
        self._config = config
        if tunables is not None:
            self._tunables = tunables
        with_phone = {phone.person for phone in config.phones}
        self._occupants = {s.id: set() for s in config.stations}
        changes: list[StationChange] = []
        for person in self._people.values():
            for scanner in list(person.scanner_tracks):
                station = config.by_scanner.get(scanner)
                if (
                    person.name not in with_phone
                    or station is None
                    or station != old.by_scanner.get(scanner)
                ):
                    del person.scanner_tracks[scanner]
            for tracks in (person.monitor_tracks, person.report_tracks):
                for station_id in [s for s in tracks if s not in config.by_id]:
                    del tracks[station_id]
            if person.pending is not None and person.pending not in config.by_id:
                person.pending = None
            if person.station is not None and person.station not in config.by_id:
                changes.append(self._move(person, None, now, ChangeCause.RECONFIGURED))
            if person.station is not None:
                self._occupants[person.station].add(person.name)
            changes.extend(self._evaluate(person, now))
        return tuple(changes)

    def forget(self, person: str, *, now: float) -> tuple[StationChange, ...]:
        """Drop everything known about a person (removed in Home Assistant)."""
        state = self._people.get(person)
        if state is None:
            return _NO_CHANGES
        now = self._advance(check_time(now))
        changes = _NO_CHANGES
        if state.station is not None:
            changes = (self._move(state, None, now, ChangeCause.RECONFIGURED),)
        del self._people[person]
        return changes

    # -- observations --------------------------------------------------------------------

    def observe_advert(
        self,
        scanner: str,
        manufacturer_data: Mapping[int, bytes],
        rssi: float,
        at: float,
        address: str | None = None,
    ) -> tuple[StationChange, ...]:
        """Take one advert a scanner heard (the hot path: called for every advert).

        ``manufacturer_data`` is company id → bytes as Home Assistant delivers it,
        ``rssi`` in dBm, ``at`` when the scanner heard it. The phone is recognised by the
        advert's uuid/major/minor, never by ``address`` (phones rotate their MACs); the
        address is kept for diagnostics only. The same sample fed twice counts once.
        """
        data = manufacturer_data.get(APPLE_COMPANY_ID)
        if data is None or not data or data[0] != IBEACON_TYPE:
            self.stats.ignored[IgnoredReason.NOT_IBEACON] += 1
            return _NO_CHANGES
        if len(data) < IBEACON_PAYLOAD_LENGTH or data[1] != IBEACON_DATA_LENGTH:
            try:
                parse_ibeacon_payload(data)
            except PresenceInputError as err:
                self._refuse(err)
        phone = self._config.phone_by_raw.get(data[IDENTITY_SLICE])
        if phone is None:
            self.stats.ignored[IgnoredReason.UNKNOWN_PHONE] += 1
            return _NO_CHANGES
        power = data[MEASURED_POWER_INDEX]
        return self._observe_scanner(
            scanner, phone.person, rssi, power - 256 if power > 127 else power, at, address=address
        )

    def observe_ibeacon(
        self,
        scanner: str,
        advert: IBeaconAdvert,
        rssi: float,
        at: float,
        address: str | None = None,
    ) -> tuple[StationChange, ...]:
        """Take an advert already parsed with :func:`~.ibeacon.parse_ibeacon`."""
        phone = self._config.phone_by_raw.get(advert.beacon.to_bytes())
        if phone is None:
            self.stats.ignored[IgnoredReason.UNKNOWN_PHONE] += 1
            return _NO_CHANGES
        return self._observe_scanner(
            scanner, phone.person, rssi, advert.measured_power, at, address=address
        )

    def _observe_scanner(
        self,
        scanner: str,
        person: str,
        rssi: float,
        measured_power: int,
        at: float,
        *,
        address: str | None,
    ) -> tuple[StationChange, ...]:
        if scanner not in self._config.by_scanner:
            self.stats.ignored[IgnoredReason.UNKNOWN_SCANNER] += 1
            return _NO_CHANGES
        if not (
            type(rssi) in _NUMBER_TYPES
            and MIN_RSSI <= rssi <= MAX_RSSI
            and type(measured_power) is int
            and -127 <= measured_power <= -1
            and type(at) in _NUMBER_TYPES
            and -math.inf < at < math.inf
        ):
            # Not the common case: let the checks say precisely what is wrong.
            try:
                rssi = check_rssi(rssi)
                check_measured_power(measured_power)
                at = check_time(at)
            except PresenceInputError as err:
                self._refuse(err)
        state = self._people.get(person) or self._person(person)
        if self._before_exit(state, at):
            return _NO_CHANGES
        tunables = self._tunables
        level = rssi_to_log_distance(rssi, measured_power, tunables.environment_factor)
        track = state.scanner_tracks.get(scanner)
        if track is None:
            state.scanner_tracks[scanner] = Track(level, at)
        elif at <= track.updated:
            self.stats.ignored[IgnoredReason.DUPLICATE] += 1
            return _NO_CHANGES
        elif at >= track.updated + tunables.scanner_timeout:
            track.reset(level, at)
        else:
            track.add(level, at, tunables.smoothing, tunables.distance_smoothing)
        if address is not None:
            state.address = address
        if state.last_advert is None or at > state.last_advert:
            state.last_advert = at
        state.seen(at)
        self.stats.accepted[PresenceSource.BLUETOOTH] += 1
        return self._evaluate(state, self._advance(at))

    def observe_beacon_monitor(
        self, person: str, attributes: Mapping[str, object], at: float
    ) -> tuple[StationChange, ...]:
        """Take a reading of a phone's companion-app Beacon Monitor sensor.

        ``attributes`` are the sensor's state attributes (beacon key → metres; other
        attributes are skipped). Pass an empty mapping when the sensor's state is not
        ``Monitoring``: the phone hears nothing then. The reading replaces the previous
        one; beacons that are no station are ignored.
        """
        try:
            person = _check_person(person)
            at = check_time(at)
            distances = beacon_monitor_distances(attributes)
        except PresenceInputError as err:
            self._refuse(err)
        state = self._person(person)
        if self._before_exit(state, at):
            return _NO_CHANGES
        tracks: dict[str, Track] = {}
        for key, distance in distances.items():
            station = self._config.by_key.get(key)
            if station is None:
                self.stats.ignored[IgnoredReason.UNKNOWN_BEACON] += 1
                continue
            track = tracks[station.id] = Track(log_distance(distance), at)
            previous = state.monitor_tracks.get(station.id)
            if previous is not None and at > previous.updated:
                # The phone's average lags a walk: add the trend (see PHONE_LAG).
                gain = min(PHONE_LAG / (at - previous.updated), PHONE_LAG_GAIN_MAX)
                track.level += gain * (track.mean - previous.mean)
                track.follow(previous)
        state.monitor_tracks = tracks
        if tracks:
            state.seen(at)
        self.stats.accepted[PresenceSource.COMPANION_APP] += 1
        return self._evaluate(state, self._advance(at))

    def observe_report(
        self,
        person: str,
        beacon: BeaconId,
        distance: float,
        at: float,
        project: str | None = None,
    ) -> tuple[StationChange, ...]:
        """Take an HTTP report: the person's nearest beacon, its distance, their project.

        The report replaces the person's previous report. A beacon that is no station is
        refused (``unknown_station``).
        """
        try:
            person = _check_person(person)
            at = check_time(at)
            distance = check_distance(distance)
            project = check_project(project)
            station = self._config.by_key.get(beacon.key)
            if station is None:
                raise PresenceInputError(
                    PresenceInputReason.UNKNOWN_STATION, f"beacon {beacon} is no station"
                )
        except PresenceInputError as err:
            self._refuse(err)
        state = self._person(person)
        if self._before_exit(state, at):
            return _NO_CHANGES
        state.report_tracks = {station.id: Track(log_distance(distance), at)}
        state.project = project
        state.seen(at)
        self.stats.accepted[PresenceSource.HTTP] += 1
        return self._evaluate(state, self._advance(at))

    def observe_exit(self, person: str, at: float) -> tuple[StationChange, ...]:
        """Take an explicit exit: the person is away at once and all evidence is dropped.

        Evidence taken after ``at`` can place the person again, by the usual rules.
        """
        try:
            person = _check_person(person)
            at = check_time(at)
        except PresenceInputError as err:
            self._refuse(err)
        state = self._person(person)
        now = self._advance(at)
        state.clear_evidence()
        state.project = None
        state.exited_at = at if state.exited_at is None or at > state.exited_at else state.exited_at
        self.stats.accepted[PresenceSource.HTTP] += 1
        if state.station is None:
            return _NO_CHANGES
        return (self._move(state, None, now, ChangeCause.EXIT),)

    def observe_http(
        self, person: str, report: PresenceReport, at: float
    ) -> tuple[StationChange, ...]:
        """Take a report parsed by :func:`~.http_report.parse_presence_report`."""
        if report.beacon is None:
            return self.observe_exit(person, at)
        assert report.distance is not None
        return self.observe_report(person, report.beacon, report.distance, at, report.project)

    def tick(self, now: float) -> tuple[StationChange, ...]:
        """Let time pass: confirm dwelled moves, expire readings, mark people away."""
        now = self._advance(check_time(now))
        changes: list[StationChange] = []
        for state in self._people.values():
            if state.station is not None or state.has_evidence():
                changes.extend(self._evaluate(state, now))
        return tuple(changes)

    def next_deadline(self) -> float | None:
        """Return the earliest time a :meth:`tick` could change something, if any.

        A time already past means a tick is due now. After a tick at a deadline the
        deadline is not returned again, even when the tick had to wait for more evidence
        (a nearer station still warming up), so a scheduler built on it cannot spin.
        """
        tunables = self._tunables
        deadline = math.inf
        for state in self._people.values():
            times: list[float] = []
            if state.unmatched_since is not None:
                times.append(state.unmatched_since + state.unmatched_wait)
            if state.pending is not None and state.lead > state.margin:
                missing = state.threshold - state.evidence
                times.append(state.evidence_at + missing / (state.lead - state.margin))
            times.extend(
                t.updated + tunables.scanner_timeout for t in state.scanner_tracks.values()
            )
            times.extend(t.updated + tunables.report_ttl for t in state.monitor_tracks.values())
            times.extend(t.updated + tunables.report_ttl for t in state.report_tracks.values())
            if state.station is not None and state.last_advert is not None:
                times.append(state.last_advert + tunables.away_timeout)
            for time in times:
                if state.evaluated_at < time < deadline:
                    deadline = time
        return None if deadline == math.inf else deadline

    # -- queries -------------------------------------------------------------------------

    def person(self, person: str) -> PersonPresence | None:
        """Return what is known about a person, or None if never observed."""
        state = self._people.get(person)
        return None if state is None else _snapshot(state)

    def people(self) -> tuple[PersonPresence, ...]:
        """Return every observed person."""
        return tuple(_snapshot(state) for state in self._people.values())

    def occupants(self, station: str) -> frozenset[str]:
        """Return the people at a station; raise KeyError for an unknown station id."""
        return frozenset(self._occupants[station])

    def space(self) -> SpaceState:
        """Return who is present in the space and their reported projects."""
        present = frozenset(p.name for p in self._people.values() if p.station is not None)
        projects = {
            p.name: p.project
            for p in self._people.values()
            if p.station is not None and p.project is not None
        }
        return SpaceState(present, projects)

    # -- internals -----------------------------------------------------------------------

    def _refuse(self, err: PresenceInputError) -> NoReturn:
        self.stats.refused[err.reason] += 1
        self.stats.last_refusal[err.reason] = str(err)
        raise err

    def _before_exit(self, state: _Person, at: float) -> bool:
        """Return (and count) whether evidence taken at ``at`` predates the person's exit."""
        if state.exited_at is not None and at <= state.exited_at:
            self.stats.ignored[IgnoredReason.BEFORE_EXIT] += 1
            return True
        return False

    def _advance(self, at: float) -> float:
        if at > self._clock:
            self._clock = at
        elif at < self._clock:
            self.stats.late += 1
        return self._clock

    def _person(self, name: str) -> _Person:
        state = self._people.get(name)
        if state is None:
            state = self._people[name] = _Person(name)
        return state

    def _evaluate(self, state: _Person, now: float) -> tuple[StationChange, ...]:
        """Decide the person's station from the evidence fresh at ``now``."""
        tunables = self._tunables
        state.evaluated_at = now
        # Per station, from the freshest source: the decision level and the slower mean.
        levels: dict[str, float] = {}
        means: dict[str, float] = {}
        updated: dict[str, float] = {}
        sources: dict[str, PresenceSource] = {}
        chosen: dict[str, Track] = {}
        """The track behind each station's mean (for its rise)."""

        def offer(station: str, track: Track, source: PresenceSource) -> None:
            if station not in sources or track.updated > updated[station]:
                levels[station] = track.level
                means[station] = track.mean
                updated[station] = track.updated
                sources[station] = source
                chosen[station] = track

        by_scanner = self._config.by_scanner
        warming = math.inf  # the nearest scanner track that has not heard enough yet
        expired: list[str] = []
        for scanner, track in state.scanner_tracks.items():
            if now >= track.updated + tunables.scanner_timeout:
                expired.append(scanner)
            elif track.count >= tunables.min_adverts:
                # Scanner tracks come first, so a station seen already is Bluetooth too;
                # with several scanners at one station, the nearest counts.
                station = by_scanner[scanner]
                if station in levels:
                    levels[station] = min(levels[station], track.level)
                    if track.mean < means[station]:
                        means[station] = track.mean
                        chosen[station] = track
                    updated[station] = max(updated[station], track.updated)
                else:
                    levels[station] = track.level
                    means[station] = track.mean
                    updated[station] = track.updated
                    sources[station] = PresenceSource.BLUETOOTH
                    chosen[station] = track
            elif track.level < warming:
                warming = track.level
        for scanner in expired:
            del state.scanner_tracks[scanner]
        for tracks, source in (
            (state.monitor_tracks, PresenceSource.COMPANION_APP),
            (state.report_tracks, PresenceSource.HTTP),
        ):
            if tracks:
                for station in [
                    s for s, t in tracks.items() if now >= t.updated + tunables.report_ttl
                ]:
                    del tracks[station]
                for station, track in tracks.items():
                    offer(station, track, source)

        current = state.station
        if not levels:
            state.pending = None
            state.unmatched_since = None
            if current is None or (
                state.last_advert is not None and now < state.last_advert + tunables.away_timeout
            ):
                return _NO_CHANGES
            return (self._move(state, None, now, ChangeCause.LEFT),)
        comparing = current is not None and current in levels
        if current is not None and comparing:
            state.distance = 10.0 ** means[current]
            state.source = sources[current]
            candidate = min(levels, key=levels.__getitem__)
        else:
            # Arriving, or the current station went silent: after ``dwell`` seconds of
            # this, the person goes to the nearest station on the slower mean.
            state.pending = None
            if state.unmatched_since is None:
                state.unmatched_since = now
            candidate = min(means, key=means.__getitem__)
        rule = SWITCH_RULES[sources[candidate]]
        near = levels[candidate] <= _log_near(rule.near)  # only when comparing, below
        if warming < levels[candidate]:
            # A nearer station has just started hearing the phone: wait for it.
            return _NO_CHANGES
        if candidate == current:
            state.pending = None
            state.unmatched_since = None
            return _NO_CHANGES
        if not comparing:
            assert state.unmatched_since is not None
            state.unmatched_wait = rule.arrive * tunables.dwell
            if now < state.unmatched_since + state.unmatched_wait - _EPSILON:
                return _NO_CHANGES
        else:
            # CUSUM: integrate the lead beyond the margin, held since the last evaluation;
            # a different candidate starts from nothing.
            assert current is not None
            state.unmatched_since = None
            if state.pending != candidate:
                state.pending = candidate
                state.evidence = 0.0
            else:
                gained = (state.lead - state.margin) * (now - state.evidence_at)
                state.evidence = max(0.0, state.evidence + gained)
            state.margin = margin = rule.margin * tunables.margin
            state.threshold = margin * rule.dwell * tunables.dwell
            state.lead = levels[current] - levels[candidate]
            state.evidence_at = now
            if not near and rule.walk < math.inf:
                # A walk from the current station towards the candidate (see SwitchRule).
                near = chosen[current].rise() - chosen[candidate].rise() >= rule.walk
            if state.lead <= margin or (not near and state.evidence < state.threshold - _EPSILON):
                return _NO_CHANGES
        state.distance = 10.0 ** means[candidate]
        state.source = sources[candidate]
        cause = ChangeCause.ARRIVED if current is None else ChangeCause.MOVED
        return (self._move(state, candidate, now, cause),)

    def _move(
        self, state: _Person, to: str | None, now: float, cause: ChangeCause
    ) -> StationChange:
        if state.station is not None and (here := self._occupants.get(state.station)):
            here.discard(state.name)
        if to is None:
            state.distance = None
            state.source = None
            state.project = None
        else:
            self._occupants[to].add(state.name)
        change = StationChange(
            state.name, state.station, to, now, cause, state.source, state.distance
        )
        state.station = to
        state.since = now
        state.pending = None
        state.unmatched_since = None
        return change


def _log_near(metres: float) -> float:
    return math.log10(metres) if metres > 0.0 else -math.inf


def _check_person(person: object) -> str:
    if not isinstance(person, str) or not person:
        raise PresenceInputError(
            PresenceInputReason.BAD_PERSON, "person must be a non-empty string"
        )
    return person


def _snapshot(state: _Person) -> PersonPresence:
    return PersonPresence(
        state.name,
        state.station,
        state.distance,
        state.source,
        state.last_seen,
        state.since,
        state.project,
    )
