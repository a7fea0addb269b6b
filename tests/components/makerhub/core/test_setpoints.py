"""Set-points: the stored form, fitting them to a changed schema, and the pace of writes."""

from __future__ import annotations

import math
from typing import Any

import pytest

from custom_components.makerhub.core.schema import Value, parse_makerhub_json
from custom_components.makerhub.core.setpoints import (
    Refit,
    Setpoints,
    WritePacer,
    fit_setpoints,
    fit_value,
)

SCHEMA = parse_makerhub_json(
    {
        "name": "x",
        "inputs": {
            "level": {"type": "int", "min": 0, "max": 50},
            "target": {"type": "float", "min": 5, "max": 30},
            "free": {"type": "float"},
            "mode": {"type": "enum", "options": ["eco", "night"]},
            "label": {"type": "str", "max_length": 4},
            "relay": {"type": "bool"},
        },
    }
)
INPUTS = SCHEMA.inputs


def test_round_trip_and_live_dictionaries() -> None:
    """``of`` hands out the stored dictionary itself; empty units are not written."""
    setpoints = Setpoints({"aaaaaaaaaaaa": {"level": 4}})
    live = setpoints.of("bbbbbbbbbbbb")
    live["relay"] = True
    setpoints.of("cccccccccccc")  # looked at, never set
    assert setpoints.to_json() == {
        "units": {"aaaaaaaaaaaa": {"level": 4}, "bbbbbbbbbbbb": {"relay": True}}
    }
    again, problems = Setpoints.from_json(setpoints.to_json())
    assert problems == []
    assert again.of("bbbbbbbbbbbb") == {"relay": True}
    assert setpoints.units() == {"aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc"}
    assert setpoints.forget("aaaaaaaaaaaa")
    assert not setpoints.forget("aaaaaaaaaaaa")
    assert not setpoints.forget("cccccccccccc")  # had nothing to forget


def test_nothing_stored_yet() -> None:
    """No file yet: no set-points, nothing to complain about."""
    setpoints, problems = Setpoints.from_json(None)
    assert problems == []
    assert setpoints.to_json() == {"units": {}}


@pytest.mark.parametrize(
    ("data", "kept", "problem"),
    [
        ([1, 2], {}, "stored set-points are not {'units': {...}}: [1, 2]"),
        ({"units": 3}, {}, "stored set-points are not {'units': {...}}: {'units': 3}"),
        (
            {"units": {"aaaaaaaaaaaa": [1], "bbbbbbbbbbbb": {"a": 1}}},
            {"bbbbbbbbbbbb": {"a": 1}},
            "unit 'aaaaaaaaaaaa': not an object of input values",
        ),
        (
            {"units": {"aaaaaaaaaaaa": {"Bad": 1, "ok": 2, "list": [1]}}},
            {"aaaaaaaaaaaa": {"ok": 2}},
            "unit 'aaaaaaaaaaaa': input 'Bad' = 1",
        ),
    ],
)
def test_corrupt_stored_form(data: Any, kept: dict[str, Any], problem: str) -> None:
    """What cannot be a set-point is dropped with a precise message; the rest is kept."""
    setpoints, problems = Setpoints.from_json(data)
    assert problems[0] == problem
    assert setpoints.to_json() == {"units": kept}


@pytest.mark.parametrize(
    ("name", "value", "fitted"),
    [
        ("level", 42, 42),
        ("level", 80, 50),  # clamped into the new range
        ("level", -3, 0),
        ("level", 12.6, 13),  # a float input became an int one
        ("level", "7", 7),  # a str input became an int one
        ("level", True, None),
        ("level", "x", None),
        ("target", 21, 21.0),  # an int input became a float one
        ("target", 2.5, 5.0),
        ("free", -1e12, -1e12),
        ("mode", "eco", "eco"),
        ("mode", "comfort", None),  # an option no longer offered
        ("label", "Lath", "Lath"),
        ("label", "Lathe", None),  # too long now
        ("relay", "on", True),
        ("relay", 3, None),
    ],
)
def test_fit_value(name: str, value: Value, fitted: Value | None) -> None:
    """Values are read as their wire text would be; numbers are clamped, the rest refused."""
    result = fit_value(INPUTS[name], value)
    assert result == fitted
    assert type(result) is type(fitted)


def test_fit_setpoints_reports_every_change() -> None:
    """Kept as they are, fitted, or dropped (refused, or the input is gone)."""
    values: dict[str, Value] = {
        "level": 80,
        "target": 21.0,
        "mode": "comfort",
        "gone": 1,
        "relay": False,
    }
    changes = fit_setpoints(values, SCHEMA)
    assert values == {"level": 50, "target": 21.0, "relay": False}
    assert changes == [
        Refit("level", 80, 50, "fitted to the new declaration"),
        Refit("mode", "comfort", None, "the new declaration refuses it"),
        Refit("gone", 1, None, "the input is gone"),
    ]
    assert fit_setpoints(values, SCHEMA) == []


def test_write_pacer() -> None:
    """At once after a quiet spell; otherwise one interval after the previous write."""
    pacer = WritePacer(1.0)
    assert pacer.delay(100.0) == 0.0  # nothing written yet
    pacer.wrote(100.0)
    assert pacer.delay(100.0) == 1.0
    assert math.isclose(pacer.delay(100.4), 0.6)
    assert pacer.delay(101.0) == 0.0
    assert pacer.delay(250.0) == 0.0
