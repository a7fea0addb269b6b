"""The unit schema: makerhub.json and Pepeunit parsing, value decoding and encoding."""

from __future__ import annotations

import math
from typing import Any

import pytest

from custom_components.makerhub.core.errors import BadInputError, SchemaError
from custom_components.makerhub.core.schema import (
    MAX_VARIABLES,
    Variable,
    VarType,
    parse_makerhub_json,
    parse_pepeunit,
)

VALID: dict[str, Any] = {
    "name": "Thermo",
    "platforms": ["python", "micropython"],
    "outputs": {
        "temperature": {
            "type": "float",
            "unit": "°C",
            "min": -40,
            "max": 125,
            "precision": 1,
            "state_class": "measurement",
            "device_class": "temperature",
            "icon": "mdi:thermometer",
        },
        "mode": {"type": "enum", "options": ["a", "b"]},
    },
    "inputs": {"label": {"type": "str", "max_length": 10}, "on": {"type": "bool"}},
    "env": {"PIN": {"default": 4}, "API_KEY": {"type": "str", "secret": True}},
}


def test_valid_schema_round_trips() -> None:
    """A valid document parses, and its JSON form parses to the same schema."""
    schema = parse_makerhub_json(VALID)
    assert schema.name == "Thermo"
    assert schema.platforms == ("python", "micropython")
    temperature = schema.outputs["temperature"]
    assert temperature.type is VarType.FLOAT
    assert (temperature.min, temperature.max, temperature.precision) == (-40, 125, 1)
    assert schema.env["PIN"].type == "int"
    assert schema.env["API_KEY"].secret
    assert parse_makerhub_json(schema.to_json()) == schema
    assert schema.to_json()["inputs"]["label"] == {"type": "str", "max_length": 10}


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ([], ": must be a JSON object"),
        ({}, "name: required"),
        ({"name": "x", "outputs": {"Bad": {"type": "int"}}}, "outputs.Bad: name must match"),
        ({"name": "x", "outputs": {"a/b": {"type": "int"}}}, "outputs.a/b: name must match"),
        ({"name": "x", "outputs": {"a": {"type": "double"}}}, "outputs.a.type: required"),
        ({"name": "x", "outputs": {"a": "int"}}, "outputs.a: must be an object"),
        ({"name": "x", "outputs": []}, "outputs: must be an object"),
        (
            {"name": "x", "inputs": {"a": {"type": "int", "min": 5, "max": 1}}},
            "inputs.a.min: min 5",
        ),
        (
            {"name": "x", "inputs": {"a": {"type": "int", "step": 0}}},
            "inputs.a.step: must be greater",
        ),
        (
            {"name": "x", "inputs": {"a": {"type": "int", "min": "1"}}},
            "inputs.a.min: must be a finite",
        ),
        ({"name": "x", "inputs": {"a": {"type": "bool", "min": 1}}}, "inputs.a.min: only applies"),
        ({"name": "x", "inputs": {"a": {"type": "enum"}}}, "inputs.a.options: enum needs"),
        ({"name": "x", "inputs": {"a": {"type": "enum", "options": ["a", "a"]}}}, "must be unique"),
        ({"name": "x", "inputs": {"a": {"type": "str", "options": ["a"]}}}, "only enum variables"),
        ({"name": "x", "inputs": {"a": {"type": "str", "max_length": 0}}}, "inputs.a.max_length"),
        ({"name": "x", "inputs": {"a": {"type": "int", "max_length": 3}}}, "only str variables"),
        ({"name": "x", "inputs": {"a": {"type": "int", "precision": 11}}}, "inputs.a.precision"),
        ({"name": "x", "outputs": {"a": {"type": "str", "state_class": "total"}}}, "state_class"),
        ({"name": "x", "outputs": {"a": {"type": "int", "icon": "thermo"}}}, "mdi:thermometer"),
        ({"name": "x", "outputs": {"a": {"type": "int", "unit": ""}}}, "outputs.a.unit"),
        (
            {"name": "x", "outputs": {"a": {"type": "int", "colour": "red"}}},
            "outputs.a.colour: unknown",
        ),
        ({"name": "x", "env": {"pin": {}}}, "env.pin: key must match"),
        ({"name": "x", "env": {"PIN": 4}}, "env.PIN: must be an object"),
        ({"name": "x", "env": {"PIN": {"type": "list"}}}, "env.PIN.type"),
        ({"name": "x", "env": {"PIN": {"secret": "yes"}}}, "env.PIN.secret"),
        ({"name": "x", "env": []}, "env: must be an object"),
        ({"name": "x", "platforms": "python"}, "platforms: must be a list"),
        ({"name": "x", "extra": 1}, "extra: unknown key"),
        (
            {"name": "x", "outputs": {f"v{i}": {"type": "int"} for i in range(MAX_VARIABLES + 1)}},
            f"at most {MAX_VARIABLES}",
        ),
    ],
)
def test_invalid_schema_reports_where(document: Any, expected: str) -> None:
    """Each problem is reported with its JSON path."""
    with pytest.raises(SchemaError) as err:
        parse_makerhub_json(document)
    assert expected in str(err.value)
    assert str(err.value).startswith("makerhub.json: ")


def test_every_problem_reported_at_once() -> None:
    """A firmware author sees all mistakes in one go."""
    with pytest.raises(SchemaError) as err:
        parse_makerhub_json({"outputs": {"A": {}, "b": {"type": "x"}}, "inputs": {"c": 1}})
    assert len(err.value.issues) == 4


@pytest.mark.parametrize(
    ("spec", "text", "value"),
    [
        ({"type": "float"}, "21.5", 21.5),
        ({"type": "float"}, "-1e-3", -0.001),
        ({"type": "float", "min": 0, "max": 10}, "10", 10.0),
        ({"type": "int"}, "-42", -42),
        ({"type": "bool"}, "true", True),
        ({"type": "bool"}, "OFF", False),
        ({"type": "bool"}, "1", True),
        ({"type": "str"}, "", ""),
        ({"type": "enum", "options": ["a", "b"]}, "b", "b"),
    ],
)
def test_decode_valid(spec: dict[str, Any], text: str, value: object) -> None:
    """Wire text decodes to the variable's type."""
    variable = parse_makerhub_json({"name": "x", "outputs": {"v": spec}}).outputs["v"]
    decoded = variable.decode(text)
    assert decoded == value
    assert type(decoded) is type(value)


@pytest.mark.parametrize(
    ("spec", "text", "reason"),
    [
        ({"type": "float"}, "abc", "wrong_type"),
        ({"type": "float"}, "inf", "wrong_type"),
        ({"type": "float", "max": 10}, "10.01", "out_of_range"),
        ({"type": "int", "min": 0}, "-1", "out_of_range"),
        ({"type": "int"}, "2.0", "wrong_type"),
        ({"type": "bool"}, "yes", "wrong_type"),
        ({"type": "str", "max_length": 3}, "abcd", "out_of_range"),
        ({"type": "enum", "options": ["a"]}, "A", "out_of_range"),
    ],
)
def test_decode_refuses(spec: dict[str, Any], text: str, reason: str) -> None:
    """Values of the wrong type or out of range are refused with a reason."""
    variable = parse_makerhub_json({"name": "x", "outputs": {"v": spec}}).outputs["v"]
    with pytest.raises(BadInputError) as err:
        variable.decode(text)
    assert err.value.reason == reason


def test_encode() -> None:
    """Values encode to the wire form and are checked on the way."""
    assert Variable("b", VarType.BOOL).encode(True) == "true"
    assert Variable("b", VarType.BOOL).encode(False) == "false"
    assert Variable("f", VarType.FLOAT).encode(21.0) == "21.0"
    assert Variable("f", VarType.FLOAT).encode(0.1) == "0.1"
    assert Variable("i", VarType.INT).encode(3) == "3"
    with pytest.raises(BadInputError):
        Variable("i", VarType.INT, max=2).encode(3)
    with pytest.raises(BadInputError):
        Variable("f", VarType.FLOAT).encode(math.nan)


def test_pepeunit_repository() -> None:
    """Pepeunit's schema_example.json and env_example.json are accepted unchanged."""
    schema = parse_pepeunit(
        {
            "input_base_topic": ["update/pepeunit", "env_update/pepeunit"],
            "output_base_topic": ["state/pepeunit"],
            "input_topic": ["relay_command/pepeunit"],
            "output_topic": ["temperature/pepeunit", "co2/pepeunit"],
        },
        {"WIFI_SSID": "ssid", "PING_INTERVAL": 30, "RATIO": 0.5, "DEBUG": False},
        name="wifi_relay",
    )
    assert list(schema.inputs) == ["relay_command"]
    assert list(schema.outputs) == ["temperature", "co2"]
    assert all(v.type is VarType.STR for v in schema.outputs.values())
    assert {key: env.type for key, env in schema.env.items()} == {
        "WIFI_SSID": "str",
        "PING_INTERVAL": "int",
        "RATIO": "float",
        "DEBUG": "bool",
    }
    assert schema.env["PING_INTERVAL"].default == 30


@pytest.mark.parametrize(
    ("schema_example", "env_example", "expected"),
    [
        ([], {}, "must be a JSON object"),
        ({"output_topic": "temp/pepeunit"}, {}, "output_topic: must be a list"),
        ({"output_topic": ["temp"]}, {}, "output_topic[0]: 'temp' does not end with /pepeunit"),
        ({"output_topic": ["Temp/pepeunit"]}, {}, "variable 'Temp' must match"),
        ({"input_topic": ["a/pepeunit", "a/pepeunit"]}, {}, "listed twice"),
        ({}, ["x"], "env_example.json: must be a JSON object"),
        ({}, {"wifi": "x"}, "env_example.json.wifi: key must match"),
    ],
)
def test_pepeunit_invalid(schema_example: Any, env_example: Any, expected: str) -> None:
    """Invalid Pepeunit files are reported precisely."""
    with pytest.raises(SchemaError) as err:
        parse_pepeunit(schema_example, env_example, name="x")
    assert expected in str(err.value)


@pytest.mark.parametrize("run", ["python3 app.py", ["python3", "app.py"]])
def test_run_command_accepted(run: object) -> None:
    """``run`` names the unit program the launcher starts (read on the unit)."""
    parse_makerhub_json({"name": "x", "run": run})


@pytest.mark.parametrize("run", ["", [], [""], 3])
def test_run_command_refused(run: object) -> None:
    with pytest.raises(SchemaError, match="run"):
        parse_makerhub_json({"name": "x", "run": run})
