"""The unit library's own value, schema.json, env.json and command parsing (no broker)."""

from __future__ import annotations

import json
from pathlib import Path
import random

import pytest

from custom_components.makerhub.core.protocol import UnitTopics, build_schema_json
from custom_components.makerhub.core.schema import parse_makerhub_json
from makerhub_unit.backoff import Backoff
from makerhub_unit.commands import CommandError, parse_command
from makerhub_unit.env import EnvError, UnitEnv
from makerhub_unit.outbox import Outbox, Pending
from makerhub_unit.schema_json import (
    SchemaJson,
    SchemaJsonError,
    load_schema_file,
    save_schema_file,
)
from makerhub_unit.values import Declaration, InvalidValueError, encode

from .conftest import MAKERHUB_JSON

DECLARED = Declaration.from_json(MAKERHUB_JSON)


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("target", "21.5", 21.5),
        ("target", "1e1", 10.0),
        ("relay", "true", True),
        ("relay", "OFF", False),
        ("relay", "1", True),
        ("level", "42", 42),
        ("level", "42.0", 42),
        ("label", "hello", "hello"),
    ],
)
def test_inputs_decode_to_their_types(name: str, text: str, value: object) -> None:
    decoded = DECLARED.inputs[name].decode(text)
    assert decoded == value
    assert type(decoded) is type(value)


@pytest.mark.parametrize(
    ("name", "text", "why"),
    [
        ("target", "warm", "not a number"),
        ("target", "nan", "not a finite number"),
        ("target", "31", "outside"),
        ("relay", "yes please", "not true or false"),
        ("level", "4.5", "not an integer"),
        ("label", "far too long", "exceed"),
    ],
)
def test_invalid_inputs_are_refused_with_the_reason(name: str, text: str, why: str) -> None:
    with pytest.raises(InvalidValueError, match=why):
        DECLARED.inputs[name].decode(text)


def test_outputs_encode_as_the_hub_parses_them() -> None:
    hub_schema = parse_makerhub_json(MAKERHUB_JSON)
    cases = {
        "temperature": 21.5,
        "door_open": True,
        "mode": "heating",
        "counter": 7,
        "note": "ok",
    }
    for name, value in cases.items():
        text = DECLARED.outputs[name].encode(value)
        assert hub_schema.outputs[name].decode(text) == value
    assert DECLARED.outputs["door_open"].encode(False) == "false"
    assert DECLARED.outputs["counter"].encode(3.0) == "3"


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("temperature", "warm", "expects a number"),
        ("temperature", True, "expects a number"),
        ("temperature", 99.0, "outside"),
        ("door_open", 1, "expects true or false"),
        ("mode", "off", "not one of"),
        ("counter", 2.5, "expects an integer"),
        ("note", 5, "expects text"),
    ],
)
def test_unfit_outputs_raise(name: str, value: object, why: str) -> None:
    with pytest.raises(InvalidValueError, match=why):
        DECLARED.outputs[name].encode(value)  # type: ignore[arg-type]


def test_plain_encoding_without_a_declaration() -> None:
    assert [encode(True), encode(3), encode(0.001), encode("x")] == ["true", "3", "0.001", "x"]
    with pytest.raises(InvalidValueError):
        encode(float("inf"))
    with pytest.raises(InvalidValueError):
        encode([1])  # type: ignore[arg-type]


def test_declaration_lists_every_problem() -> None:
    with pytest.raises(ValueError, match=r"inputs\.Bad.*outputs\.x\.type.*outputs\.e\.options"):
        Declaration.from_json(
            {
                "inputs": {"Bad": {"type": "int"}},
                "outputs": {"x": {"type": "complex"}, "e": {"type": "enum"}},
            }
        )


def _schema_json(links: dict[str, list[str]] | None = None) -> dict[str, object]:
    return build_schema_json(
        UnitTopics("makerhub", "3f9a0c71be42"), parse_makerhub_json(MAKERHUB_JSON), links
    )


def test_schema_json_from_the_hub_parses_with_routes() -> None:
    linked = "makerhub/0d2c4e6a8b10/out/setpoint"
    schema = SchemaJson.parse(_schema_json({"target": [linked]}))
    assert schema.uid == "3f9a0c71be42"
    assert schema.outputs["temperature"] == ("makerhub/3f9a0c71be42/out/temperature",)
    routes = schema.routes()
    assert routes[linked] == ("target",)
    assert routes["makerhub/3f9a0c71be42/in/target"] == ("target",)
    assert "makerhub/3f9a0c71be42/sys/cmd" in schema.subscriptions()
    assert "makerhub/3f9a0c71be42/sys/schema" in schema.subscriptions()


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"v": 2}, "unsupported version"),
        ({"unit": "NOT-A-UID"}, "unit must be"),
        ({"sys": {}}, "sys.status"),
        ({"inputs": {"target": ["makerhub/+/out/x"]}}, "without wildcards"),
        ({"outputs": {"Temp": ["a/b"]}}, "not a variable name"),
    ],
)
def test_unusable_schema_json_is_refused(change: dict[str, object], why: str) -> None:
    with pytest.raises(SchemaJsonError, match=why):
        SchemaJson.parse({**_schema_json(), **change})
    with pytest.raises(SchemaJsonError):
        SchemaJson.parse_payload(b"{not json")


def test_schema_file_round_trips_atomically(tmp_path: Path) -> None:
    path = tmp_path / "state" / "unit.schema.json"
    assert load_schema_file(path) is None
    schema = SchemaJson.parse(_schema_json())
    save_schema_file(path, schema)
    assert load_schema_file(path) == schema
    assert json.loads(path.read_text()) == _schema_json()
    assert [p.name for p in path.parent.iterdir()] == ["unit.schema.json"]
    path.write_text("{broken")
    with pytest.raises(SchemaJsonError, match="not valid JSON"):
        load_schema_file(path)


def test_env_json_parsing() -> None:
    env = UnitEnv.parse(
        {
            "MH_MQTT_HOST": "10.0.0.2",
            "MH_MQTT_PORT": "8883",
            "MH_MQTT_TLS": "true",
            "MH_MQTT_USERNAME": "unit",
            "MH_MQTT_PASSWORD": "s3cret",
            "MH_STATE_INTERVAL": "15",
            "MH_VERSION": "a1b2c3d",
            "SENSOR_PIN": 4,
        }
    )
    assert (env.broker.host, env.broker.port, env.broker.tls) == ("10.0.0.2", 8883, True)
    assert (env.state_interval, env.version, env.values["SENSOR_PIN"]) == (15.0, "a1b2c3d", 4)
    assert "s3cret" not in repr(env.broker)
    for bad, why in (
        ({}, "MH_MQTT_HOST"),
        ({"MH_MQTT_HOST": "h", "MH_MQTT_PORT": "x"}, "MH_MQTT_PORT must be a number"),
        ({"MH_MQTT_HOST": "h", "MH_STATE_INTERVAL": 0}, "greater than 0"),
        ({"MH_MQTT_HOST": "h", "MH_MQTT_TLS": "maybe"}, "MH_MQTT_TLS"),
    ):
        with pytest.raises(EnvError, match=why):
            UnitEnv.parse(bad)


def test_commands() -> None:
    assert parse_command(b'{"cmd":"restart"}').cmd == "restart"  # type: ignore[union-attr]
    assert parse_command(b'{"cmd":"dance"}') is None
    update = parse_command(
        json.dumps(
            {
                "cmd": "update",
                "version": "a1b2c3d",
                "url": "https://hub/fw.tar.gz",
                "sha256": "0" * 64,
                "size": 12345,
            }
        ).encode()
    )
    assert update is not None
    assert update.update is not None
    assert (update.update.version, update.update.size) == ("a1b2c3d", 12345)
    for bad in (b"nope", b'["cmd"]', b'{"cmd":"update","version":"x","url":"ftp://x"}'):
        with pytest.raises(CommandError):
            parse_command(bad)


def test_backoff_grows_is_capped_and_jittered() -> None:
    backoff = Backoff(initial=0.5, maximum=4.0, rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(8)]
    steps = [0.5, 1, 2, 4, 4, 4, 4, 4]
    assert all(step / 2 <= delay <= step for delay, step in zip(delays, steps, strict=True))
    assert len({round(d, 6) for d in delays[3:]}) > 1, "capped delays are still jittered"
    backoff.reset()
    assert backoff.next_delay() <= 0.5


def test_outbox_drops_oldest_when_full() -> None:
    outbox = Outbox(limit=3)
    for n in range(5):
        outbox.put(Pending("counter", "t", str(n), 1, n))
    assert (len(outbox), outbox.dropped) == (3, 2)
    assert [m.payload for m in outbox.drain()] == ["2", "3", "4"]
    assert len(outbox) == 0
