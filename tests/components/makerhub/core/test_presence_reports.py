"""Custom-app HTTP reports and companion-app Beacon Monitor attributes."""

from __future__ import annotations

import pytest

from custom_components.makerhub.core.presence import (
    BeaconId,
    PresenceInputError,
    PresenceInputReason,
    PresenceReport,
    beacon_monitor_distances,
    parse_presence_report,
)

UUID = "e2c56db5-dffb-48d2-b060-d0f5a71096e0"


def test_a_beacon_report_parses() -> None:
    report = parse_presence_report(
        {"beacon": {"uuid": UUID.upper(), "major": 1, "minor": 2}, "distance": 1.5, "project": "x"}
    )
    assert report == PresenceReport(BeaconId(UUID, 1, 2), 1.5, "x")
    assert not report.is_exit


def test_project_is_optional() -> None:
    body = {"beacon": {"uuid": UUID, "major": 1, "minor": 2}, "distance": 0}
    assert parse_presence_report(body).project is None
    assert parse_presence_report({**body, "project": None}).project is None


def test_an_exit_report_parses() -> None:
    report = parse_presence_report({"exit": True})
    assert report.is_exit
    assert report.beacon is None


BEACON = {"uuid": UUID, "major": 1, "minor": 2}


@pytest.mark.parametrize(
    ("body", "reason", "message"),
    [
        ([], PresenceInputReason.WRONG_TYPE, "must be a JSON object"),
        ("exit", PresenceInputReason.WRONG_TYPE, "must be a JSON object"),
        ({"exit": False}, PresenceInputReason.WRONG_TYPE, "exit must be true"),
        ({"exit": 1}, PresenceInputReason.WRONG_TYPE, "exit must be true"),
        ({"exit": True, "distance": 1}, PresenceInputReason.UNKNOWN_FIELD, "'distance'"),
        ({"distance": 1}, PresenceInputReason.MISSING_FIELD, "beacon is required"),
        ({"beacon": BEACON}, PresenceInputReason.MISSING_FIELD, "distance is required"),
        ({"beacon": BEACON, "distnace": 1}, PresenceInputReason.UNKNOWN_FIELD, "'distnace'"),
        ({"beacon": "x", "distance": 1}, PresenceInputReason.WRONG_TYPE, "beacon must be"),
        (
            {"beacon": {"uuid": UUID, "major": 1}, "distance": 1},
            PresenceInputReason.MISSING_FIELD,
            "beacon needs minor",
        ),
        (
            {"beacon": {**BEACON, "rssi": -60}, "distance": 1},
            PresenceInputReason.UNKNOWN_FIELD,
            "'rssi'",
        ),
        (
            {"beacon": {**BEACON, "uuid": "nope"}, "distance": 1},
            PresenceInputReason.MALFORMED_BEACON,
            "not a UUID",
        ),
        (
            {"beacon": {**BEACON, "major": "1"}, "distance": 1},
            PresenceInputReason.MALFORMED_BEACON,
            "major must be an integer",
        ),
        ({"beacon": BEACON, "distance": -1}, PresenceInputReason.BAD_DISTANCE, "negative"),
        ({"beacon": BEACON, "distance": "2"}, PresenceInputReason.WRONG_TYPE, "number"),
        ({"beacon": BEACON, "distance": 1, "project": ""}, PresenceInputReason.BAD_PROJECT, ""),
        ({"beacon": BEACON, "distance": 1, "project": 7}, PresenceInputReason.BAD_PROJECT, ""),
        (
            {"beacon": BEACON, "distance": 1, "project": "p" * 256},
            PresenceInputReason.BAD_PROJECT,
            "1 to 255 characters",
        ),
    ],
)
def test_malformed_reports_are_refused_precisely(
    body: object, reason: PresenceInputReason, message: str
) -> None:
    with pytest.raises(PresenceInputError, match=message) as caught:
        parse_presence_report(body)
    assert caught.value.reason is reason


def test_beacon_monitor_attributes_give_distances_by_key() -> None:
    key_a = BeaconId(UUID, 1, 1).key
    key_b = BeaconId(UUID, 1, 2).key
    attributes: dict[str, object] = {
        key_a: 0.84,
        f"{UUID.upper()}_1_2": 3,
        "options": ["Monitoring", "Stopped", "Bluetooth is turned off"],
        "friendly_name": "Pixel Beacon Monitor",
        "icon": "mdi:bluetooth",
    }
    assert beacon_monitor_distances(attributes) == {key_a: 0.84, key_b: 3.0}
    assert beacon_monitor_distances({}) == {}


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (-1.0, PresenceInputReason.BAD_DISTANCE),
        (float("nan"), PresenceInputReason.NOT_FINITE),
        ("near", PresenceInputReason.WRONG_TYPE),
    ],
)
def test_a_bad_beacon_monitor_attribute_names_itself(
    value: object, reason: PresenceInputReason
) -> None:
    key = BeaconId(UUID, 1, 1).key
    with pytest.raises(PresenceInputError, match=f"attribute '{key}'") as caught:
        beacon_monitor_distances({key: value, "friendly_name": "x"})
    assert caught.value.reason is reason
