"""Links between units: the rules, the messages and what schema.json gets from them."""

from __future__ import annotations

from dataclasses import replace
import json
import math
from typing import Any

import pytest

from custom_components.makerhub.core.links import (
    Link,
    LinkError,
    LinkNotFoundError,
    LinkRegistry,
    LinkUnit,
    Transform,
    Visibility,
)
from custom_components.makerhub.core.protocol import UnitTopics, build_schema_json
from custom_components.makerhub.core.schema import UnitSchema, parse_makerhub_json

A, B, C = "aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc"
VARS: dict[str, Any] = {
    "temp": {"type": "float"},
    "count": {"type": "int"},
    "on": {"type": "bool"},
    "text": {"type": "str"},
    "mode": {"type": "enum", "options": ["idle", "heat"]},
    "wide": {"type": "enum", "options": ["idle", "heat", "cool"]},
}
SCHEMA = parse_makerhub_json({"name": "Any", "outputs": VARS, "inputs": VARS})


def _units(**changes: Any) -> dict[str, LinkUnit]:
    units = {
        uid: LinkUnit(uid=uid, name=name, schema=SCHEMA)
        for uid, name in ((A, "Alpha"), (B, "Beta"), (C, "Gamma"))
    }
    for uid, fields in changes.items():
        units[uid] = replace(units[uid], **fields)
    return units


UNITS = _units()


def _errors(link: Link, units: dict[str, LinkUnit] | None = None) -> dict[str, str]:
    registry = LinkRegistry()
    with pytest.raises(LinkError) as err:
        registry.add(link, UNITS if units is None else units)
    assert registry.links() == []  # nothing changes on error
    return err.value.errors


# transforms


def test_transform_applies_scale_offset_then_clamps() -> None:
    assert Transform().apply(3.5) == 3.5
    assert Transform(scale=2, offset=1).apply(3) == 7
    assert Transform(scale=-1).apply(4) == -4
    clamp = Transform(scale=10, minimum=0, maximum=50)
    assert [clamp.apply(v) for v in (-1, 2, 9)] == [0, 20, 50]
    assert Transform(scale=0, offset=5).apply(123) == 5  # a constant is allowed
    assert Transform(minimum=1, maximum=1).apply(7) == 1


def test_transform_json_omits_defaults_and_round_trips() -> None:
    assert Transform().to_json() == {}
    assert Transform().is_identity
    full = Transform(scale=0.1, offset=-3, minimum=0, maximum=100)
    assert full.to_json() == {"scale": 0.1, "offset": -3, "min": 0, "max": 100}
    assert Transform.from_json(full.to_json()) == full
    assert Transform.from_json({"max": 5}) == Transform(maximum=5)
    assert not Transform(maximum=5).is_identity


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"scale": math.nan}, {"transform.scale": "must be a finite number, not nan"}),
        ({"offset": math.inf}, {"transform.offset": "must be a finite number, not inf"}),
        ({"min": "1"}, {"transform.min": "must be a finite number, not '1'"}),
        ({"max": True}, {"transform.max": "must be a finite number, not True"}),
        ({"min": 5, "max": 1}, {"transform.min": "min 5 is greater than max 1"}),
        ({"gain": 2}, {"transform": "unknown key gain; use scale, offset, min, max"}),
        ([2], {"transform": 'must be an object like {"scale": 2, "offset": 1}'}),
    ],
)
def test_invalid_transforms_are_refused(data: Any, errors: dict[str, str]) -> None:
    with pytest.raises(LinkError) as err:
        Transform.from_json(data)
    assert err.value.errors == errors
    assert str(err.value) == "; ".join(f"{k}: {v}" for k, v in errors.items())


def test_transform_constructor_validates_too() -> None:
    with pytest.raises(LinkError, match=r"transform\.scale"):
        Transform(scale=None)  # type: ignore[arg-type]


# links


def test_link_id_and_json_round_trip() -> None:
    link = Link(A, "temp", B, "count", Transform(scale=2))
    assert link.id == f"{A}.temp>{B}.count"
    assert link.to_json() == {
        "source": A,
        "output": "temp",
        "target": B,
        "input": "count",
        "transform": {"scale": 2},
    }
    assert Link.from_json(json.loads(json.dumps(link.to_json()))) == link
    plain = Link(A, "on", B, "on")
    assert "transform" not in plain.to_json()
    assert Link.from_json(plain.to_json()) == plain
    assert Link.from_json({**plain.to_json(), "transform": None}) == plain


def test_invalid_link_json_lists_every_problem() -> None:
    with pytest.raises(LinkError) as err:
        Link.from_json(
            {"source": "", "output": "Temp", "input": 3, "extra": 1, "transform": {"scale": "x"}}
        )
    assert err.value.errors == {
        "source": "required: a non-empty string",
        "output": "'Temp' is not a variable name",
        "target": "required: a non-empty string",
        "input": "required: a non-empty string",
        "link": "unknown key extra",
        "transform.scale": "must be a finite number, not 'x'",
    }
    with pytest.raises(LinkError, match="must be an object"):
        Link.from_json([A])


# type compatibility


@pytest.mark.parametrize(
    ("output", "input_"),
    [
        ("on", "on"),
        ("temp", "temp"),
        ("temp", "count"),
        ("count", "temp"),
        ("count", "count"),
        ("on", "text"),
        ("temp", "text"),
        ("count", "text"),
        ("mode", "text"),
        ("text", "text"),
        ("mode", "mode"),
        ("mode", "wide"),
    ],
)
def test_compatible_types_link(output: str, input_: str) -> None:
    registry = LinkRegistry()
    link = registry.add(Link(A, output, B, input_), UNITS)
    assert registry.links() == [link]


@pytest.mark.parametrize(
    ("output", "input_", "message"),
    [
        ("on", "temp", "a bool output (on) cannot feed a float input (temp)"),
        ("on", "count", "a bool output (on) cannot feed a int input (count)"),
        ("temp", "on", "a float output (temp) cannot feed a bool input (on)"),
        ("text", "temp", "a str output (text) cannot feed a float input (temp)"),
        ("text", "mode", "a str output (text) cannot feed a enum input (mode)"),
        ("mode", "on", "a enum output (mode) cannot feed a bool input (on)"),
        ("count", "mode", "a int output (count) cannot feed a enum input (mode)"),
        ("wide", "mode", "enum output wide has options the enum input mode lacks: cool"),
    ],
)
def test_incompatible_types_are_refused(output: str, input_: str, message: str) -> None:
    assert _errors(Link(A, output, B, input_)) == {"input": message}


def test_transform_only_between_numbers() -> None:
    registry = LinkRegistry()
    link = registry.add(Link(A, "temp", B, "count", Transform(scale=2)), UNITS)
    assert link.transform == Transform(scale=2)
    for output, input_, types in (("on", "on", "bool → bool"), ("temp", "text", "float → str")):
        assert _errors(Link(A, output, B, input_, Transform(offset=1))) == {
            "transform": "only a number output feeding a number input can be transformed, "
            f"not {types}"
        }


def test_identity_transform_is_dropped() -> None:
    registry = LinkRegistry()
    link = registry.add(Link(A, "temp", B, "temp", Transform()), UNITS)
    assert link.transform is None
    assert registry.links() == [link]
    assert registry.transforms(B, "m") == {}


# existence, self-links, duplicates


def test_unknown_units_and_variables_name_what_exists() -> None:
    assert _errors(Link("dddddddddddd", "temp", "eeeeeeeeeeee", "temp")) == {
        "source": f"unknown unit 'dddddddddddd'; units: {A}, {B}, {C}",
        "target": f"unknown unit 'eeeeeeeeeeee'; units: {A}, {B}, {C}",
    }
    assert _errors(Link(A, "humidity", B, "fan")) == {
        "output": "Alpha has no output 'humidity'; outputs: count, mode, on, temp, text, wide",
        "input": "Beta has no input 'fan'; inputs: count, mode, on, temp, text, wide",
    }
    empty = UnitSchema(name="Empty", outputs={}, inputs={})
    units = _units(**{A: {"schema": empty}, B: {"schema": empty}})
    assert _errors(Link(A, "temp", B, "temp"), units) == {
        "output": "Alpha has no output 'temp'; there are no outputs",
        "input": "Beta has no input 'temp'; there are no inputs",
    }
    assert _errors(Link(A, "temp", B, "temp"), {}) == {
        "source": f"unknown unit {A!r}; there are no units",
        "target": f"unknown unit {B!r}; there are no units",
    }


def test_a_unit_cannot_feed_its_own_input() -> None:
    assert _errors(Link(A, "temp", A, "temp")) == {"target": "a unit cannot feed its own input"}


def test_duplicate_link_is_refused() -> None:
    registry = LinkRegistry()
    registry.add(Link(A, "temp", B, "temp"), UNITS)
    with pytest.raises(LinkError) as err:
        registry.add(Link(A, "temp", B, "temp", Transform(scale=3)), UNITS)
    assert err.value.errors == {"link": f"{A}.temp>{B}.temp already exists"}
    assert len(registry.links()) == 1


def test_longer_cycles_are_allowed() -> None:
    registry = LinkRegistry()
    registry.add(Link(A, "temp", B, "temp"), UNITS)
    registry.add(Link(B, "temp", A, "temp"), UNITS)
    registry.add(Link(B, "count", C, "count"), UNITS)
    registry.add(Link(C, "count", A, "count"), UNITS)
    assert len(registry.links()) == 4


# visibility


def test_public_and_instance_units_are_open_to_every_unit_of_the_hub() -> None:
    for visibility in (Visibility.PUBLIC, Visibility.INSTANCE):
        units = _units(**{A: {"visibility": visibility, "owner": "u1"}, B: {"owner": "u2"}})
        LinkRegistry().add(Link(A, "temp", B, "temp"), units)
    assert LinkUnit(A, "x", SCHEMA).visibility is Visibility.PUBLIC


@pytest.mark.parametrize(
    ("source_owner", "target_owner", "allowed"),
    [
        ("u1", "u1", True),
        (None, None, True),  # both belong to the hub's admins
        ("u1", "u2", False),
        ("u1", None, False),
        (None, "u1", False),
    ],
)
def test_private_units_only_feed_units_of_the_same_owner(
    source_owner: str | None, target_owner: str | None, allowed: bool
) -> None:
    units = _units(
        **{
            A: {"visibility": Visibility.PRIVATE, "owner": source_owner},
            B: {"owner": target_owner},
        }
    )
    link = Link(A, "temp", B, "temp")
    if allowed:
        assert LinkRegistry().add(link, units) == link
    else:
        assert _errors(link, units) == {
            "source": "Alpha is private: only units of the same owner may link to its outputs"
        }


def test_a_private_target_may_read_a_public_source() -> None:
    units = _units(**{B: {"visibility": Visibility.PRIVATE, "owner": "u2"}, A: {"owner": "u1"}})
    LinkRegistry().add(Link(A, "temp", B, "temp"), units)


# registry


def _registry() -> LinkRegistry:
    registry = LinkRegistry()
    registry.add(Link(A, "temp", B, "temp", Transform(scale=0.5, maximum=30)), UNITS)
    registry.add(Link(C, "temp", B, "temp"), UNITS)
    registry.add(Link(A, "count", B, "count", Transform(offset=1)), UNITS)
    registry.add(Link(A, "on", C, "on"), UNITS)
    registry.add(Link(B, "mode", A, "wide"), UNITS)
    return registry


def test_sources_targets_and_schema_json_sections() -> None:
    registry = _registry()
    assert {
        name: [link.source for link in links] for name, links in registry.sources_of(B).items()
    } == {
        "count": [A],
        "temp": [A, C],
    }
    assert {
        name: [link.target for link in links] for name, links in registry.targets_of(A).items()
    } == {
        "count": [B],
        "on": [C],
        "temp": [B],
    }
    assert registry.sources_of("nobody12abcd") == {}
    assert registry.schema_links(B, "m") == {
        "count": [f"m/{A}/out/count"],
        "temp": [f"m/{A}/out/temp", f"m/{C}/out/temp"],
    }
    assert registry.transforms(B, "m") == {
        "count": {f"m/{A}/out/count": {"offset": 1}},
        "temp": {f"m/{A}/out/temp": {"scale": 0.5, "max": 30}},
    }
    assert registry.transforms(C, "m") == {}
    assert registry.linked_topics(B, "m") == {
        f"m/{A}/out/count",
        f"m/{A}/out/temp",
        f"m/{C}/out/temp",
    }
    assert registry.linked_topics(A, "m") == {f"m/{B}/out/mode"}
    document = build_schema_json(
        UnitTopics("m", B), SCHEMA, registry.schema_links(B, "m"), registry.transforms(B, "m")
    )
    assert document["inputs"]["temp"] == [f"m/{B}/in/temp", f"m/{A}/out/temp", f"m/{C}/out/temp"]
    assert document["transforms"] == registry.transforms(B, "m")


def test_remove_and_get() -> None:
    registry = _registry()
    link_id = f"{A}.on>{C}.on"
    assert registry.get(link_id).target == C
    removed = registry.remove(link_id)
    assert removed.id == link_id
    assert link_id not in [link.id for link in registry.links()]
    with pytest.raises(LinkNotFoundError) as err:
        registry.remove(link_id)
    assert str(err.value) == f"no link {link_id!r}"
    assert isinstance(err.value, KeyError)
    assert str(LinkNotFoundError()) == "link not found"


def test_remove_unit_returns_the_targets_whose_schema_changes() -> None:
    registry = _registry()
    assert registry.remove_unit(A) == {B, C}  # A fed B and C; B feeding A changes nobody else
    assert [link.id for link in registry.links()] == [f"{C}.temp>{B}.temp"]
    assert registry.remove_unit(B) == set()
    assert registry.links() == []
    assert registry.remove_unit(B) == set()


def test_validate_all_reports_links_broken_by_a_change() -> None:
    registry = _registry()
    assert registry.validate_all(UNITS) == []
    only_text = parse_makerhub_json(
        {"name": "Changed", "outputs": {"temp": {"type": "str"}}, "inputs": VARS}
    )
    units = _units(**{A: {"schema": only_text}, C: {"visibility": Visibility.PRIVATE}})
    units = {**units, C: replace(units[C], owner="u")}
    broken = {link.id: reason for link, reason in registry.validate_all(units)}
    assert broken == {
        f"{A}.temp>{B}.temp": "input: a str output (temp) cannot feed a float input (temp)",
        f"{C}.temp>{B}.temp": "source: Gamma is private: only units of the same owner may "
        "link to its outputs",
        f"{A}.count>{B}.count": "output: Alpha has no output 'count'; outputs: temp",
        f"{A}.on>{C}.on": "output: Alpha has no output 'on'; outputs: temp",
    }
    del units[B]
    gone = {link.id: reason for link, reason in registry.validate_all(units)}
    assert gone[f"{B}.mode>{A}.wide"] == f"source: unknown unit {B!r}; units: {A}, {C}"
    assert gone[f"{A}.count>{B}.count"] == (
        f"target: unknown unit {B!r}; units: {A}, {C}; "
        "output: Alpha has no output 'count'; outputs: temp"
    )
    assert len(registry.links()) == 5  # the caller decides what to drop


def test_registry_json_round_trip() -> None:
    registry = _registry()
    data = json.loads(json.dumps(registry.to_json()))
    assert list(data) == ["links"]
    again = LinkRegistry.from_json(data)
    assert again.links() == registry.links()
    assert again.to_json() == registry.to_json()
    assert LinkRegistry.from_json({"links": []}).links() == []


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (None, {"links": "must be a list of links"}),
        ({"links": {}}, {"links": "must be a list of links"}),
        (
            {"links": [Link(A, "on", B, "on").to_json(), {"source": A}]},
            {
                "links[1].output": "required: a non-empty string",
                "links[1].target": "required: a non-empty string",
                "links[1].input": "required: a non-empty string",
            },
        ),
        (
            {"links": [{**Link(A, "on", B, "on").to_json(), "transform": {"max": "x"}}]},
            {"links[0].transform.max": "must be a finite number, not 'x'"},
        ),
        (
            {"links": [Link(A, "on", B, "on").to_json()] * 2},
            {"link": f"{A}.on>{B}.on is listed twice"},
        ),
    ],
)
def test_invalid_registry_json_is_refused(data: Any, errors: dict[str, str]) -> None:
    with pytest.raises(LinkError) as err:
        LinkRegistry.from_json(data)
    assert err.value.errors == errors
