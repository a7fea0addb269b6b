"""Inputs fed by other units' outputs: the ``transforms`` section and how a unit applies it."""

from __future__ import annotations

from collections.abc import Callable
import json
from pathlib import Path
import threading
from typing import Any

import pytest

from custom_components.makerhub.core.links import Link, LinkRegistry, LinkUnit, Transform
from custom_components.makerhub.core.protocol import UnitTopics, build_schema_json
from custom_components.makerhub.core.schema import parse_makerhub_json
from makerhub_unit import Unit, Value
from makerhub_unit.env import BrokerSettings
from makerhub_unit.schema_json import SchemaJson, SchemaJsonError, Transform as UnitTransform
from makerhub_unit.session import SessionOptions, UnitSession
from makerhub_unit.values import Declaration, InvalidValueError, number_text, round_half_away

from .conftest import LINKED_TOPIC, LINKED_UID, MAKERHUB_JSON, UID
from .wire import Recorder

OTHER_UID = "7e7e7e7e7e7e"
OTHER_TOPIC = f"makerhub/{OTHER_UID}/out/percent"
SOURCE_JSON: dict[str, Any] = {
    "name": "Source",
    "outputs": {"setpoint": {"type": "float"}, "percent": {"type": "int"}},
    "inputs": {},
}


def _hub_schema_json() -> dict[str, Any]:
    """What the hub generates for the unit, from real links in the hub's registry."""
    target_schema = parse_makerhub_json(MAKERHUB_JSON)
    source_schema = parse_makerhub_json(SOURCE_JSON)
    units = {
        UID: LinkUnit(UID, "Thermo", target_schema),
        LINKED_UID: LinkUnit(LINKED_UID, "Source", source_schema),
        OTHER_UID: LinkUnit(OTHER_UID, "Other", source_schema),
    }
    registry = LinkRegistry()
    registry.add(Link(LINKED_UID, "setpoint", UID, "target", Transform(scale=0.5, offset=1)), units)
    registry.add(Link(OTHER_UID, "setpoint", UID, "target"), units)
    registry.add(
        Link(LINKED_UID, "setpoint", UID, "level", Transform(scale=10, maximum=100)), units
    )
    registry.add(Link(OTHER_UID, "percent", UID, "label", None), units)
    return build_schema_json(
        UnitTopics("makerhub", UID),
        target_schema,
        registry.schema_links(UID, "makerhub"),
        registry.transforms(UID, "makerhub"),
    )


def test_hub_schema_json_carries_transforms_the_unit_parses() -> None:
    document = _hub_schema_json()
    assert document["transforms"] == {
        "level": {LINKED_TOPIC: {"scale": 10, "max": 100}},
        "target": {LINKED_TOPIC: {"scale": 0.5, "offset": 1}},
    }
    schema = SchemaJson.parse(json.loads(json.dumps(document)))
    assert schema.transform("target", LINKED_TOPIC) == UnitTransform(scale=0.5, offset=1)
    assert schema.transform("target", f"makerhub/{OTHER_UID}/out/setpoint") is None
    assert schema.transform("relay", LINKED_TOPIC) is None
    assert schema.is_linked("target", LINKED_TOPIC)
    assert not schema.is_linked("target", f"makerhub/{UID}/in/target")
    assert not schema.is_linked("nothing", LINKED_TOPIC)
    assert schema.routes()[LINKED_TOPIC] == ("level", "target")


def test_without_transforms_the_section_is_absent() -> None:
    document = build_schema_json(
        UnitTopics("makerhub", UID), parse_makerhub_json(MAKERHUB_JSON), {"target": [LINKED_TOPIC]}
    )
    assert "transforms" not in document
    assert SchemaJson.parse(document).transforms == {}


def test_build_schema_json_keeps_only_transforms_of_listed_links() -> None:
    document = build_schema_json(
        UnitTopics("makerhub", UID),
        parse_makerhub_json(MAKERHUB_JSON),
        {"target": [LINKED_TOPIC]},
        {
            "target": {LINKED_TOPIC: {"scale": 2}, OTHER_TOPIC: {"scale": 3}},
            "relay": {LINKED_TOPIC: {"scale": 2}},  # no link listed for relay
            "gone": {LINKED_TOPIC: {"scale": 2}},  # not an input
            "level": {LINKED_TOPIC: {}},
        },
    )
    assert document["transforms"] == {"target": {LINKED_TOPIC: {"scale": 2}}}


@pytest.mark.parametrize(
    ("transforms", "why"),
    [
        ([], r"transforms must be an object of INPUT: \{topic: transform\}"),
        ({"heater": {}}, r"transforms\.heater: 'heater' is not an input"),
        ({"target": [1]}, r"transforms\.target must be an object of topic: transform"),
        (
            {"target": {f"makerhub/{UID}/in/target": {"scale": 2}}},
            r"is not a linked topic of input target \(an input's own topic is never transformed",
        ),
        ({"target": {OTHER_TOPIC: {"scale": 2}}}, "is not a linked topic of input target"),
        ({"target": {LINKED_TOPIC: 2}}, "must be an object of scale, offset, min, max"),
        ({"target": {LINKED_TOPIC: {"gain": 2}}}, r"unknown key 'gain' \(scale, offset, min"),
        ({"target": {LINKED_TOPIC: {"scale": "2"}}}, r"\.scale must be a finite number"),
        ({"target": {LINKED_TOPIC: {"offset": True}}}, r"\.offset must be a finite number"),
        ({"target": {LINKED_TOPIC: {"min": 5, "max": 1}}}, "min 5 is greater than max 1"),
    ],
)
def test_invalid_transforms_make_schema_json_unusable(transforms: Any, why: str) -> None:
    document = build_schema_json(
        UnitTopics("makerhub", UID), parse_makerhub_json(MAKERHUB_JSON), {"target": [LINKED_TOPIC]}
    )
    with pytest.raises(SchemaJsonError, match=why):
        SchemaJson.parse({**document, "transforms": transforms})


def test_unit_transform_applies_then_clamps() -> None:
    assert UnitTransform().apply(2.5) == 2.5
    assert UnitTransform(scale=2, offset=-1, min=0, max=4).apply(1) == 1
    assert UnitTransform(scale=2, offset=-1, min=0, max=4).apply(-5) == 0
    assert UnitTransform(scale=2, offset=-1, min=0, max=4).apply(9) == 4


@pytest.mark.parametrize(
    ("name", "text", "transform", "value"),
    [
        ("target", "18", None, 18.0),
        ("target", "40", UnitTransform(scale=0.5), 20.0),
        ("target", "100", UnitTransform(scale=0.5, max=25), 25.0),
        ("level", "42", None, 42),
        ("level", "4.5", None, 5),  # a float output feeding an int input: rounded
        ("level", "-0.5", UnitTransform(offset=1), 1),
        ("level", "2.25", UnitTransform(scale=10), 23),
        ("level", "123456789012345678", UnitTransform(scale=0), 0),
        ("relay", "on", None, True),
        ("label", "7", None, "7"),
    ],
)
def test_linked_values_decode_with_transform_and_rounding(
    name: str, text: str, transform: UnitTransform | None, value: Value
) -> None:
    spec = Declaration.from_json(MAKERHUB_JSON).inputs[name]
    decoded = spec.decode_linked(text, transform.apply if transform else None)
    assert decoded == value
    assert type(decoded) is type(value)


@pytest.mark.parametrize(
    ("name", "text", "transform", "why"),
    [
        ("target", "warm", None, "not a number"),
        ("target", "inf", None, "not a finite number"),
        ("target", "100", UnitTransform(scale=0.5), "outside"),  # the input's own range holds
        ("level", "20", UnitTransform(scale=10), "outside"),
        ("level", "1e308", UnitTransform(scale=10), "the transform gave inf"),
    ],
)
def test_linked_values_still_respect_the_input(
    name: str, text: str, transform: UnitTransform | None, why: str
) -> None:
    spec = Declaration.from_json(MAKERHUB_JSON).inputs[name]
    with pytest.raises(InvalidValueError, match=why):
        spec.decode_linked(text, transform.apply if transform else None)


def test_number_helpers() -> None:
    assert [round_half_away(x) for x in (0.5, 1.5, 2.5, -0.5, -2.5, 2.4, -2.6)] == [
        1,
        2,
        3,
        -1,
        -3,
        2,
        -3,
    ]
    assert [number_text(x) for x in (20.0, 20.5, -3.0, 1e20)] == ["20", "20.5", "-3", "1e+20"]


def _collector(got: list[tuple[str, Value]], name: str) -> Callable[[Value], None]:
    return lambda value: got.append((name, value))


def _session(tmp_path: Path, declared: bool) -> UnitSession:
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(_hub_schema_json()))
    return UnitSession(
        BrokerSettings("127.0.0.1"),
        path,
        SessionOptions(version="1.0"),
        declaration=Declaration.from_json(MAKERHUB_JSON) if declared else None,
    )


@pytest.mark.parametrize("declared", [True, False])
def test_session_transforms_only_linked_topics(tmp_path: Path, declared: bool) -> None:
    session = _session(tmp_path, declared)
    got: list[tuple[str, Value]] = []
    for name in ("target", "level", "label"):
        session.on_input(name, _collector(got, name))
    session.link_message(LINKED_TOPIC, b"20")  # target: 20*0.5+1; level: 20*10 clamped to 100
    session.link_message(f"makerhub/{OTHER_UID}/out/setpoint", b"12.5")  # target, as is
    session.link_message(f"makerhub/{UID}/in/target", b"20")  # its own topic: never transformed
    session.link_message(OTHER_TOPIC, b"9")  # a str input: text as it came
    if declared:
        assert got == [
            ("level", 100),
            ("target", 11.0),
            ("target", 12.5),
            ("target", 20.0),
            ("label", "9"),
        ]
        session.link_message(f"makerhub/{UID}/in/level", b"4.5")  # the hub's own value: strict
        session.link_message(LINKED_TOPIC, b"warm")  # dropped, once per input
        assert session.stats.invalid_inputs == 3
    else:  # no makerhub.json: text, transformed when the schema says so
        assert got == [
            ("level", "100"),
            ("target", "11"),
            ("target", "12.5"),
            ("target", "20"),
            ("label", "9"),
        ]
        session.link_message(LINKED_TOPIC, b"warm")
        assert session.stats.invalid_inputs == 2


def test_linked_values_through_a_real_broker(
    unit_files: dict[str, Path], recorder: Recorder
) -> None:
    unit_files["schema"].write_text(json.dumps(_hub_schema_json()))
    unit = Unit.from_files(unit_files["env"], unit_files["schema"], unit_files["makerhub"])
    got: list[tuple[str, Value]] = []
    lock = threading.Lock()

    def collect(name: str) -> None:
        def callback(value: Value) -> None:
            with lock:
                got.append((name, value))

        unit.on_input(name, callback)

    for name in ("target", "level"):
        collect(name)
    recorder.publish(f"makerhub/{UID}/in/target", "9.25", retain=True)  # own topic: as is
    assert unit.start(timeout=5)
    try:
        recorder.wait_for(lambda: got, what="retained own input")  # subscribed by now
        recorder.publish(LINKED_TOPIC, "9.25")  # target 9.25*0.5+1; level 92.5 → 93
        recorder.wait_for(lambda: len(got) >= 3, what="two linked inputs")
        assert got[0] == ("target", 9.25)
        assert sorted(got[1:]) == [("level", 93), ("target", 5.625)]
        assert unit.inputs == {"level": 93, "target": 5.625}
    finally:
        unit.stop()
