"""The presence engine on hand-made observations: hysteresis, timeouts, sources, errors."""

from __future__ import annotations

from dataclasses import replace
import math

import pytest

from custom_components.makerhub.core.presence import (
    APPLE_COMPANY_ID,
    BeaconId,
    ChangeCause,
    IgnoredReason,
    Phone,
    PresenceConfigError,
    PresenceEngine,
    PresenceInputError,
    PresenceInputReason,
    PresenceSource,
    PresenceTunables,
    Station,
    StationChange,
    build_ibeacon_payload,
    parse_ibeacon,
    parse_presence_report,
)

UUID = "e2c56db5-dffb-48d2-b060-d0f5a71096e0"
A, B, C = (BeaconId(UUID, 1, minor) for minor in (1, 2, 3))
STATIONS = (
    Station("a", "Bench A", A, scanners=frozenset({"scan-a"})),
    Station("b", "Bench B", B, scanners=frozenset({"scan-b", "scan-b2"})),
    Station("c", "Laser", C),  # a beacon, no scanner
)
ALICE_PHONE = BeaconId("0f0e0d0c-0b0a-0908-0706-050403020100", 100, 1)
BOB_PHONE = BeaconId("0f0e0d0c-0b0a-0908-0706-050403020100", 100, 2)
PHONES = (Phone(ALICE_PHONE, "alice"), Phone(BOB_PHONE, "bob"))
EXACT = PresenceTunables(smoothing=0.0, distance_smoothing=0.0)
"""Tunables without smoothing, so levels equal the samples and times are exact."""
NO_WALK = replace(EXACT, distance_smoothing=600.0)
"""Exact levels, but means too slow to show a walk: the CUSUM alone decides."""


def make(tunables: PresenceTunables | None = None) -> PresenceEngine:
    return PresenceEngine(STATIONS, PHONES, tunables)


def advert(
    engine: PresenceEngine,
    scanner: str,
    rssi: float,
    at: float,
    phone: BeaconId = ALICE_PHONE,
    address: str | None = "4C:11:22:33:44:55",
    power: int = -59,
) -> tuple[StationChange, ...]:
    data = {APPLE_COMPANY_ID: build_ibeacon_payload(phone, power)}
    return engine.observe_advert(scanner, data, rssi, at, address)


def rssi_at(distance: float, power: int = -59, factor: float = 2.5) -> float:
    return power - 10 * factor * math.log10(distance)


def place_at_a(engine: PresenceEngine, until: float = 5.0) -> None:
    """Alice near bench A (1 m), far from bench B (5 m), one advert a second."""
    t = 0.0
    while t <= until:
        advert(engine, "scan-a", rssi_at(1.0), t)
        advert(engine, "scan-b", rssi_at(5.0), t)
        engine.tick(t)
        t += 1.0
    state = engine.person("alice")
    assert state is not None
    assert state.station == "a"


# -- arriving ---------------------------------------------------------------------------


def test_a_person_arrives_after_the_dwell() -> None:
    engine = make()
    assert advert(engine, "scan-a", -59, 0.0) == ()  # one advert counts for nothing yet
    assert advert(engine, "scan-a", -59, 1.0) == ()  # now it counts: pending since 1.0
    assert engine.next_deadline() == pytest.approx(2.5)
    assert engine.tick(2.4) == ()
    (change,) = engine.tick(2.5)
    assert change == StationChange(
        "alice", None, "a", 2.5, ChangeCause.ARRIVED, PresenceSource.BLUETOOTH, change.distance
    )
    assert change.distance == pytest.approx(1.0)
    state = engine.person("alice")
    assert state is not None
    assert (state.station, state.since, state.last_seen, state.is_away) == ("a", 2.5, 1.0, False)


def test_one_stray_advert_places_nobody() -> None:
    engine = make()
    advert(engine, "scan-a", -40, 0.0)
    assert engine.tick(5.0) == ()
    assert engine.tick(10.0) == ()  # the lone track expired
    assert engine.next_deadline() is None
    state = engine.person("alice")
    assert state is not None
    assert state.is_away


def test_a_nearer_station_still_warming_up_is_waited_for() -> None:
    engine = make(EXACT)
    advert(engine, "scan-a", rssi_at(3.0), 0.0)
    advert(engine, "scan-a", rssi_at(3.0), 1.0)  # A counts: pending since 1.0
    advert(engine, "scan-b", rssi_at(0.5), 1.2)  # B heard once, nearer
    assert engine.tick(2.5) == ()  # the dwell is over, but B may be the right answer
    deadline = engine.next_deadline()
    assert deadline is not None
    assert deadline > 2.5  # the waiting tick is not asked for again
    (change,) = advert(engine, "scan-b", rssi_at(0.5), 2.6)  # B counts now
    assert (change.to_station, change.at) == ("b", 2.6)


# -- moving -----------------------------------------------------------------------------


def test_a_slightly_nearer_station_does_not_take_over() -> None:
    engine = make()
    place_at_a(engine)
    t = 6.0
    while t < 120.0:  # B is 25% nearer than A, for two minutes: inside the margin
        assert advert(engine, "scan-a", rssi_at(2.0), t) == ()
        assert advert(engine, "scan-b", rssi_at(1.5), t) == ()
        assert engine.tick(t + 0.5) == ()
        t += 1.0
    state = engine.person("alice")
    assert state is not None
    assert state.station == "a"
    assert state.distance == pytest.approx(2.0, rel=0.01)


def test_a_clearly_nearer_station_takes_over_within_seconds() -> None:
    engine = make()
    place_at_a(engine)
    changes: list[StationChange] = []
    t = 6.0
    while not changes:
        changes += advert(engine, "scan-a", rssi_at(5.0), t)
        changes += advert(engine, "scan-b", rssi_at(0.8), t)
        changes += engine.tick(t + 0.5)
        t += 1.0
    (change,) = changes
    assert (change.from_station, change.to_station, change.cause) == ("a", "b", ChangeCause.MOVED)
    assert change.at - 6.0 < 3.0
    assert engine.occupants("b") == {"alice"}
    assert engine.occupants("a") == frozenset()


@pytest.mark.parametrize(("lead_in_margins", "seconds"), [(2.0, 1.5), (4.0, 0.5), (1.5, 3.0)])
def test_the_bigger_the_lead_the_sooner_the_move(lead_in_margins: float, seconds: float) -> None:
    tunables = NO_WALK
    engine = make(tunables)
    place_at_a(engine)
    lead_db = lead_in_margins * tunables.margin * 10 * tunables.environment_factor
    # 17 m from A, so that B (at least 1.09 m away) is never near enough to take over
    # at once: this is the CUSUM, not the Bluetooth near rule.
    advert(engine, "scan-a", -90.0, 10.0)
    advert(engine, "scan-b", -90.0 + lead_db, 10.0)  # B leads from t = 10
    deadline = engine.next_deadline()
    assert deadline == pytest.approx(10.0 + seconds)
    assert engine.tick(deadline - 0.01) == ()
    (change,) = engine.tick(deadline)
    assert change.to_station == "b"


def test_without_dwell_the_margin_still_holds() -> None:
    engine = make(replace(EXACT, dwell=0.0))
    place_at_a(engine)
    assert advert(engine, "scan-b", rssi_at(0.6), 6.0) == ()  # a lead of 0.22, under 0.30
    assert engine.tick(7.0) == ()
    (change,) = advert(engine, "scan-b", rssi_at(0.4), 7.5)  # 0.40: at once
    assert (change.to_station, change.at) == ("b", 7.5)


def test_a_lead_that_fades_does_not_move_anyone() -> None:
    engine = make(NO_WALK)
    place_at_a(engine)
    lead_db = 3 * EXACT.margin * 25
    advert(engine, "scan-a", -90.0, 10.0)
    advert(engine, "scan-b", -90.0 + lead_db, 10.0)  # would move at 10.75
    t = 10.5
    while t < 60.0:  # the lead is gone before that
        assert advert(engine, "scan-a", -90.0, t) == ()
        assert advert(engine, "scan-b", -95.0, t) == ()
        assert engine.tick(t + 0.5) == ()
        t += 1.0
    state = engine.person("alice")
    assert state is not None
    assert state.station == "a"


def test_several_scanners_at_one_station_count_the_nearest() -> None:
    engine = make(EXACT)
    for t in (0.0, 1.0):
        advert(engine, "scan-b", rssi_at(6.0), t)
        advert(engine, "scan-b2", rssi_at(0.9), t)
        advert(engine, "scan-a", rssi_at(3.0), t)
    (change,) = engine.tick(2.5)
    assert change.to_station == "b"
    assert change.distance == pytest.approx(0.9)


def test_a_walk_is_measured_on_the_nearest_scanner_of_a_station() -> None:
    engine = make(EXACT)
    for t in range(6):  # at A (2 m); bench B's two scanners at 5 m and 8 m
        advert(engine, "scan-a", rssi_at(2.0), float(t))
        advert(engine, "scan-b2", rssi_at(5.0), float(t))
        advert(engine, "scan-b", rssi_at(8.0), float(t))
        engine.tick(float(t))
    assert advert(engine, "scan-a", rssi_at(3.0), 6.0) == ()
    assert advert(engine, "scan-b", rssi_at(8.0), 6.0) == ()  # the far scanner: no walk
    # The near scanner's mean fell from 5 m to 1.2 m: with A's, more than a walk's rise.
    (change,) = advert(engine, "scan-b2", rssi_at(1.2), 6.0)
    assert (change.to_station, change.at) == ("b", 6.0)


# -- leaving ----------------------------------------------------------------------------


def test_silence_marks_a_person_away_after_the_timeout() -> None:
    engine = make()
    place_at_a(engine)  # last adverts at t = 5
    assert engine.tick(15.0) == ()  # readings expired, but the phone may be back
    assert engine.next_deadline() == pytest.approx(35.0)
    assert engine.tick(34.9) == ()
    (change,) = engine.tick(35.0)
    assert (change.from_station, change.to_station, change.cause) == ("a", None, ChangeCause.LEFT)
    assert engine.space().present == frozenset()
    assert engine.next_deadline() is None


def test_an_exit_report_is_away_at_once_and_drops_the_evidence() -> None:
    engine = make()
    place_at_a(engine)
    (change,) = engine.observe_exit("alice", 5.5)
    assert (change.to_station, change.cause, change.at) == (None, ChangeCause.EXIT, 5.5)
    assert advert(engine, "scan-a", -59, 5.4) == ()  # heard before the exit
    assert engine.stats.ignored[IgnoredReason.BEFORE_EXIT] == 1
    assert engine.tick(20.0) == ()
    advert(engine, "scan-a", -59, 21.0)  # still here after all
    advert(engine, "scan-a", -59, 22.0)
    (back,) = engine.tick(23.5)
    assert (back.to_station, back.cause) == ("a", ChangeCause.ARRIVED)


def test_an_exit_of_someone_away_changes_nothing() -> None:
    engine = make()
    assert engine.observe_exit("carol", 1.0) == ()


# -- companion app and HTTP --------------------------------------------------------------


def test_beacon_monitor_readings_place_people() -> None:
    engine = make()
    stranger = BeaconId("11111111-2222-3333-4444-555555555555", 9, 9)
    reading: dict[str, object] = {
        C.key: 0.6,
        A.key: 3.2,
        stranger.key: 0.3,
        "options": ["Monitoring", "Stopped", "Bluetooth is turned off"],
        "friendly_name": "Pixel Beacon Monitor",
    }
    assert engine.observe_beacon_monitor("bob", reading, 10.0) == ()
    assert engine.stats.ignored[IgnoredReason.UNKNOWN_BEACON] == 1
    assert engine.next_deadline() == pytest.approx(11.5)
    (change,) = engine.tick(11.5)
    assert (change.to_station, change.source) == ("c", PresenceSource.COMPANION_APP)
    assert change.distance == pytest.approx(0.6)


def test_a_beacon_monitor_reading_replaces_the_previous_one() -> None:
    engine = make()
    engine.observe_beacon_monitor("bob", {A.key: 0.5, B.key: 4.0}, 0.0)
    engine.tick(2.0)
    # Bench A's beacon is gone from the next reading: bob is at B after the dwell.
    engine.observe_beacon_monitor("bob", {B.key: 3.0}, 30.0)
    assert engine.tick(31.0) == ()
    (change,) = engine.tick(31.5)
    assert (change.from_station, change.to_station) == ("a", "b")


def test_an_empty_beacon_monitor_reading_is_away_at_once() -> None:
    engine = make()
    engine.observe_beacon_monitor("bob", {A.key: 0.5}, 0.0)
    engine.tick(2.0)
    (change,) = engine.observe_beacon_monitor("bob", {}, 50.0)
    assert (change.to_station, change.cause) == (None, ChangeCause.LEFT)


def test_reports_stand_until_their_ttl() -> None:
    engine = make(PresenceTunables(report_ttl=600.0))
    engine.observe_report("cyd", A, 1.0, 0.0, project="robot-arm")
    engine.tick(2.0)
    assert engine.tick(599.0) == ()
    (change,) = engine.tick(600.0)
    assert (change.to_station, change.cause) == (None, ChangeCause.LEFT)


def test_http_reports_place_people_with_their_project() -> None:
    engine = make()
    body = {
        "beacon": {"uuid": UUID, "major": 1, "minor": 2},
        "distance": 1.2,
        "project": "robot-arm",
    }
    # The app named its nearest beacon: its decision, taken at once.
    (change,) = engine.observe_http("cyd", parse_presence_report(body), 0.0)
    assert (change.to_station, change.source, change.at) == ("b", PresenceSource.HTTP, 0.0)
    state = engine.person("cyd")
    assert state is not None
    assert state.project == "robot-arm"
    space = engine.space()
    assert space.present == {"cyd"}
    assert space.projects == {"cyd": "robot-arm"}
    assert space.is_active(require_project=True)
    (gone,) = engine.observe_http("cyd", parse_presence_report({"exit": True}), 5.0)
    assert gone.cause is ChangeCause.EXIT
    assert not engine.space().is_active(require_project=False)
    state = engine.person("cyd")
    assert state is not None
    assert state.project is None


def test_space_is_active_without_projects_only_when_projects_are_not_required() -> None:
    engine = make()
    place_at_a(engine)
    space = engine.space()
    assert space.present == {"alice"}
    assert space.is_active(require_project=False)
    assert not space.is_active(require_project=True)


def test_fresher_sources_win_per_station() -> None:
    engine = make(EXACT)
    engine.observe_beacon_monitor("alice", {A.key: 0.5, B.key: 6.0}, 0.0)
    engine.tick(1.5)
    advert(engine, "scan-a", rssi_at(2.0), 2.0)
    advert(engine, "scan-a", rssi_at(2.0), 3.0)
    state = engine.person("alice")
    assert state is not None
    assert (state.station, state.source) == ("a", PresenceSource.BLUETOOTH)
    assert state.distance == pytest.approx(2.0)


# -- scanners, duplicates, addresses ------------------------------------------------------


def test_the_same_sample_polled_twice_counts_once() -> None:
    engine = make(EXACT)
    advert(engine, "scan-a", -59, 1.0)
    assert advert(engine, "scan-a", -40, 1.0) == ()
    assert advert(engine, "scan-a", -40, 0.5) == ()
    assert engine.stats.ignored[IgnoredReason.DUPLICATE] == 2
    assert engine.stats.accepted[PresenceSource.BLUETOOTH] == 1


def test_rotating_addresses_are_one_phone() -> None:
    engine = make()
    for second in range(4):
        advert(engine, "scan-a", -59, float(second), address=f"7A:00:00:00:00:{second:02X}")
    engine.tick(4.0)
    assert [p.person for p in engine.people()] == ["alice"]
    state = engine.person("alice")
    assert state is not None
    assert state.station == "a"


def test_parsed_adverts_are_taken_too() -> None:
    engine = make()
    advert_data = {APPLE_COMPANY_ID: build_ibeacon_payload(BOB_PHONE, -59)}
    parsed = parse_ibeacon(advert_data)
    assert parsed is not None
    engine.observe_ibeacon("scan-a", parsed, -59, 0.0)
    engine.observe_ibeacon("scan-a", parsed, -59, 1.0)
    (change,) = engine.tick(2.5)
    assert change.person == "bob"
    stranger = parse_ibeacon({APPLE_COMPANY_ID: build_ibeacon_payload(A, -59)})
    assert stranger is not None
    assert engine.observe_ibeacon("scan-a", stranger, -59, 3.0) == ()
    assert engine.stats.ignored[IgnoredReason.UNKNOWN_PHONE] == 1


def test_traffic_that_is_not_ours_is_ignored_and_counted() -> None:
    engine = make()
    engine.observe_advert("scan-a", {0x0006: b"\x01\x02"}, -50, 0.0)
    engine.observe_advert("scan-a", {APPLE_COMPANY_ID: bytes.fromhex("1005031c")}, -50, 0.0)
    advert(engine, "scan-a", -50, 0.0, phone=A)  # a station's own beacon
    advert(engine, "kitchen-proxy", -50, 0.0)  # a scanner at no station
    assert engine.stats.ignored == {
        IgnoredReason.NOT_IBEACON: 2,
        IgnoredReason.UNKNOWN_PHONE: 1,
        IgnoredReason.UNKNOWN_SCANNER: 1,
    }
    assert engine.people() == ()


# -- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("feed", "reason"),
    [
        (
            lambda e: e.observe_advert("scan-a", {APPLE_COMPANY_ID: b"\x02\x15\x00"}, -50, 9.0),
            PresenceInputReason.MALFORMED_BEACON,
        ),
        (lambda e: advert(e, "scan-a", math.nan, 9.0), PresenceInputReason.NOT_FINITE),
        (lambda e: advert(e, "scan-a", -127, 9.0), PresenceInputReason.BAD_RSSI),
        (lambda e: advert(e, "scan-a", "-50", 9.0), PresenceInputReason.WRONG_TYPE),
        (lambda e: advert(e, "scan-a", -50, math.nan), PresenceInputReason.NOT_FINITE),
        (lambda e: advert(e, "scan-a", -50, 9.0, power=0), PresenceInputReason.BAD_MEASURED_POWER),
        (lambda e: e.observe_report("alice", C, -1.0, 9.0), PresenceInputReason.BAD_DISTANCE),
        (lambda e: e.observe_report("alice", C, math.nan, 9.0), PresenceInputReason.NOT_FINITE),
        (
            lambda e: e.observe_report("alice", BOB_PHONE, 1.0, 9.0),
            PresenceInputReason.UNKNOWN_STATION,
        ),
        (lambda e: e.observe_report("", C, 1.0, 9.0), PresenceInputReason.BAD_PERSON),
        (lambda e: e.observe_report("alice", C, 1.0, 9.0, 5), PresenceInputReason.BAD_PROJECT),
        (
            lambda e: e.observe_beacon_monitor("alice", {A.key: -2.0}, 9.0),
            PresenceInputReason.BAD_DISTANCE,
        ),
        (
            lambda e: e.observe_beacon_monitor("alice", {f"{UUID}_99999_1": 1.0}, 9.0),
            PresenceInputReason.MALFORMED_BEACON,
        ),
        (lambda e: e.observe_beacon_monitor(None, {}, 9.0), PresenceInputReason.BAD_PERSON),
        (lambda e: e.observe_exit("alice", math.inf), PresenceInputReason.NOT_FINITE),
    ],
)
def test_bad_input_is_refused_counted_and_changes_nothing(
    feed: object, reason: PresenceInputReason
) -> None:
    assert callable(feed)
    engine = make()
    place_at_a(engine)
    before = (engine.people(), engine.space(), engine.next_deadline())
    with pytest.raises(PresenceInputError) as caught:
        feed(engine)
    assert caught.value.reason is reason
    assert engine.stats.refused == {reason: 1}
    assert engine.stats.last_refusal[reason] == str(caught.value)
    assert (engine.people(), engine.space(), engine.next_deadline()) == before
    # and the engine carries on
    advert(engine, "scan-a", rssi_at(1.0), 6.0)
    assert engine.stats.as_dict()["refused_total"] == 1


def test_late_observations_are_counted_and_used() -> None:
    engine = make()
    engine.tick(100.0)
    advert(engine, "scan-a", -59, 98.0)
    assert engine.stats.late == 1
    assert engine.stats.as_dict()["late"] == 1


# -- configuration -----------------------------------------------------------------------


def test_reconfiguring_away_a_station_sends_its_people_away() -> None:
    engine = make()
    place_at_a(engine)
    remaining = (STATIONS[1], STATIONS[2])
    (change,) = engine.reconfigure(remaining, PHONES, now=6.0)
    assert (change.from_station, change.to_station, change.cause) == (
        "a",
        None,
        ChangeCause.RECONFIGURED,
    )
    with pytest.raises(KeyError):
        engine.occupants("a")
    # Bench B's scanner still hears alice (at 5 m): she is placed there after the dwell.
    (again,) = engine.tick(7.5)
    assert again.to_station == "b"
    assert engine.occupants("b") == {"alice"}


def test_reconfiguring_keeps_people_where_their_station_stays() -> None:
    engine = make()
    place_at_a(engine)
    fourth = Station("d", "Bench D", BeaconId(UUID, 1, 4), scanners=frozenset({"scan-d"}))
    assert (
        engine.reconfigure((*STATIONS, fourth), PHONES, PresenceTunables(dwell=3.0), now=6.0) == ()
    )
    assert engine.tunables.dwell == 3.0
    assert engine.occupants("a") == {"alice"}
    assert len(engine.config.stations) == 4


def test_a_moved_scanner_or_a_removed_phone_drops_its_readings() -> None:
    engine = make()
    place_at_a(engine)
    moved = (
        Station("a", "Bench A", A, scanners=frozenset({"scan-b"})),
        Station("b", "Bench B", B, scanners=frozenset({"scan-a"})),
    )
    engine.reconfigure(moved, PHONES, now=6.0)
    assert engine.tick(7.0) == ()  # no readings left: held until the away timeout
    engine.reconfigure(moved, (), now=8.0)
    advert(engine, "scan-a", -59, 9.0)
    assert engine.stats.ignored[IgnoredReason.UNKNOWN_PHONE] == 1


def test_removing_a_station_drops_its_readings_and_pending_moves() -> None:
    engine = make(EXACT)
    engine.observe_beacon_monitor("bob", {A.key: 1.2, C.key: 1.0}, 0.0)
    engine.tick(1.5)
    engine.observe_beacon_monitor("bob", {A.key: 0.6, C.key: 1.5}, 2.0)  # A pending
    (placed,) = engine.observe_report("cyd", C, 1.0, 2.0)  # an HTTP report: at once
    assert placed.to_station == "c"
    changes = engine.reconfigure(STATIONS[:2], PHONES, now=2.5)
    assert [(c.person, c.to_station, c.cause) for c in changes] == [
        ("bob", None, ChangeCause.RECONFIGURED),
        ("cyd", None, ChangeCause.RECONFIGURED),
    ]
    (arrival,) = engine.tick(4.0)  # bob's reading of A is left: he is placed there
    assert (arrival.person, arrival.to_station) == ("bob", "a")
    cyd = engine.person("cyd")
    assert cyd is not None
    assert cyd.is_away
    assert engine.next_deadline() == pytest.approx(2.0 + engine.tunables.report_ttl)


def test_removing_the_station_a_person_was_moving_to_cancels_the_move() -> None:
    engine = make(EXACT)
    engine.observe_beacon_monitor("bob", {A.key: 1.2, C.key: 1.0}, 0.0)
    engine.tick(1.5)
    engine.observe_beacon_monitor("bob", {A.key: 0.6, C.key: 1.5}, 2.0)  # A gains on C
    assert engine.next_deadline() is not None
    assert engine.next_deadline() < 5.0  # the move to A is due soon
    assert engine.reconfigure(STATIONS[1:], PHONES, now=2.5) == ()
    assert engine.next_deadline() == pytest.approx(2.0 + engine.tunables.report_ttl)
    bob = engine.person("bob")
    assert bob is not None
    assert bob.station == "c"


def test_readings_older_than_an_exit_are_ignored_for_every_source() -> None:
    engine = make()
    engine.observe_exit("bob", 10.0)
    assert engine.observe_beacon_monitor("bob", {A.key: 1.0}, 9.0) == ()
    assert engine.observe_report("bob", A, 1.0, 10.0) == ()
    assert engine.stats.ignored[IgnoredReason.BEFORE_EXIT] == 2
    assert engine.tick(30.0) == ()


def test_a_scanner_heard_again_after_a_gap_starts_afresh() -> None:
    engine = make(PresenceTunables(distance_smoothing=60.0))
    place_at_a(engine)
    for t in (30.0, 31.0):  # after more than the scanner timeout: the old mean is gone
        advert(engine, "scan-a", rssi_at(3.0), t)
    state = engine.person("alice")
    assert state is not None
    assert state.distance == pytest.approx(3.0, rel=0.05)


def test_forgetting_a_person() -> None:
    engine = make()
    place_at_a(engine)
    (change,) = engine.forget("alice", now=6.0)
    assert change.cause is ChangeCause.RECONFIGURED
    assert engine.person("alice") is None
    assert engine.occupants("a") == frozenset()
    assert engine.forget("alice", now=7.0) == ()


@pytest.mark.parametrize(
    ("stations", "phones", "message"),
    [
        ((STATIONS[0], STATIONS[0]), (), "two stations with id 'a'"),
        (
            (STATIONS[0], Station("x", "X", A)),
            (),
            "stations 'a' and 'x' share beacon",
        ),
        (
            (STATIONS[0], Station("x", "X", C, scanners=frozenset({"scan-a"}))),
            (),
            "scanner 'scan-a' is at both 'a' and 'x'",
        ),
        (STATIONS, (Phone(A, "alice"),), "alice's phone uses the beacon of station 'a'"),
        (STATIONS, (*PHONES, Phone(ALICE_PHONE, "eve")), "alice and eve have phones"),
    ],
)
def test_clashing_configuration_is_refused(
    stations: tuple[Station, ...], phones: tuple[Phone, ...], message: str
) -> None:
    with pytest.raises(PresenceConfigError, match=message):
        PresenceEngine(stations, phones)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Station("away", "Away", A), "not 'away'"),
        (lambda: Station("", "X", A), "must be non-empty"),
        (lambda: Station("x", "", A), "name must not be empty"),
        (lambda: Station("x", "X", A, measured_power=3), "measured power must be -127 to -1"),
        (lambda: Station("x", "X", A, scanners=frozenset({""})), "empty scanner id"),
        (lambda: Phone(A, ""), "person must not be empty"),
        (lambda: PresenceTunables(switch_margin=0.95), "switch_margin must be 0.05 to 0.9"),
        (lambda: PresenceTunables(dwell=-1.0), "dwell must be 0 to 120"),
        (lambda: PresenceTunables(away_timeout=math.nan), "away_timeout must be finite"),
        (lambda: PresenceTunables(min_adverts=True), "min_adverts must be a number"),
        (lambda: PresenceTunables(min_adverts=2.5), "min_adverts must be an integer"),
        (lambda: PresenceTunables(environment_factor=9.0), "environment_factor must be 1 to 6"),
    ],
)
def test_bad_configuration_says_what_is_wrong(build: object, message: str) -> None:
    assert callable(build)
    with pytest.raises(PresenceConfigError, match=message):
        build()
