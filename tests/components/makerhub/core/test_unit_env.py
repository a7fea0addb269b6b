"""A unit's env.json: declared keys, generated MH_* keys, the merge rules, redaction."""

from __future__ import annotations

import math
from typing import Any

import pytest

from custom_components.makerhub.core.schema import EnvKey, parse_makerhub_json
from custom_components.makerhub.core.unit_env import (
    HUB_OWNED_KEYS,
    MH_KEYS,
    REDACTED,
    EnvError,
    EnvIssue,
    check_value,
    declared_defaults,
    declared_env,
    generated_env,
    merge_env,
    missing_keys,
    redact_env,
    redact_schema,
    secret_keys,
)

UID = "3f9a0c71be42"
MAKERHUB_JSON: dict[str, Any] = {
    "name": "Bench thermometer",
    "outputs": {"temperature": {"type": "float"}},
    "env": {
        "SENSOR_PIN": {"default": 4, "type": "int"},
        "LABEL": {"default": "bench"},
        "GAIN": {"default": 1.5, "type": "float"},
        "VERBOSE": {"default": False},
        "CLOUD_ID": {"type": "str", "secret": True},
        "WIFI_SSID": {"default": "placeholder"},
        "MH_MQTT_HOST": {"default": "evil.example"},
    },
}


@pytest.fixture
def declared() -> dict[str, EnvKey]:
    """The thermometer's declared env keys."""
    return declared_env(MAKERHUB_JSON)


@pytest.fixture
def generated() -> dict[str, Any]:
    """The hub's keys for the unit."""
    return generated_env(
        UID,
        mqtt_host="192.168.1.10",
        mqtt_port=8883,
        mqtt_tls=True,
        mqtt_username=f"unit-{UID}",
        mqtt_password="broker-pass",
        api_url="http://ha.local:8123",
        token="unit-token",
        state_interval=15,
        version="v1.2.0",
    )


def merge(
    declared: dict[str, EnvKey],
    generated: dict[str, Any],
    user: dict[str, Any] | None = None,
    stored: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge with the declared defaults."""
    return merge_env(user or {}, stored or {}, generated, declared_defaults(declared), declared)


# --- declared ----------------------------------------------------------------------------


def test_declared_from_every_source(declared: dict[str, EnvKey]) -> None:
    """makerhub.json, a parsed schema, Pepeunit's env_example and EnvKey maps agree."""
    assert list(declared) == ["SENSOR_PIN", "LABEL", "GAIN", "VERBOSE", "CLOUD_ID", "WIFI_SSID"]
    assert declared["SENSOR_PIN"] == EnvKey("SENSOR_PIN", 4, "int", False)
    assert declared["LABEL"].type == "str"
    assert declared["VERBOSE"].type == "bool"
    assert declared["CLOUD_ID"].secret
    assert declared["CLOUD_ID"].default is None
    assert declared_env(parse_makerhub_json(MAKERHUB_JSON)) == declared
    assert declared_env(declared) == declared
    assert declared_env({"env": {}}) == {}
    pepe = declared_env({"WIFI_PASS": "password", "PWM_FAN_PIN": 0, "TEMP_MAX": 60.5})
    assert {k: (v.default, v.type) for k, v in pepe.items()} == {
        "WIFI_PASS": ("password", "str"),
        "PWM_FAN_PIN": (0, "int"),
        "TEMP_MAX": (60.5, "float"),
    }
    assert declared_env({}) == {}
    assert declared_defaults(declared) == {
        "SENSOR_PIN": 4,
        "LABEL": "bench",
        "GAIN": 1.5,
        "VERBOSE": False,
        "WIFI_SSID": "placeholder",
    }


def test_declared_errors_name_the_field() -> None:
    """Invalid env sections are refused field by field."""
    with pytest.raises(EnvError) as err:
        declared_env({"env": {"lower": {}, "PIN": {"type": "complex"}, "S": {"secret": "y"}}})
    assert [issue.field for issue in err.value.issues] == ["lower", "PIN.type", "S.secret"]
    assert "lower: key must match" in str(err.value)
    with pytest.raises(EnvError) as pepe:
        declared_env({"bad-key": 1})
    assert pepe.value.issues[0].field == "env_example.json.bad-key"
    with pytest.raises(EnvError, match="env: must be an object"):
        declared_env({"env": []})
    with pytest.raises(EnvError, match=r"must be a makerhub\.json"):
        declared_env(["not", "a", "mapping"])  # type: ignore[arg-type]


# --- generated ---------------------------------------------------------------------------


def test_generated_has_every_mh_key(generated: dict[str, Any]) -> None:
    """All MH_* keys, in protocol order, with their types."""
    assert list(generated) == list(MH_KEYS)
    assert generated["MH_MQTT_PORT"] == 8883
    assert generated["MH_MQTT_TLS"] is True
    assert generated["MH_STATE_INTERVAL"] == 15
    minimal = generated_env(UID, mqtt_host="broker")
    assert minimal == {
        "MH_UNIT_ID": UID,
        "MH_MQTT_HOST": "broker",
        "MH_MQTT_PORT": 1883,
        "MH_MQTT_TLS": False,
        "MH_MQTT_USERNAME": "",
        "MH_MQTT_PASSWORD": "",
        "MH_API_URL": "",
        "MH_TOKEN": "",
        "MH_STATE_INTERVAL": 30,
        "MH_VERSION": "",
    }


def test_generated_refuses_unusable_values() -> None:
    """A unit could not start with these: every problem is reported."""
    with pytest.raises(EnvError) as err:
        generated_env("", mqtt_host="", mqtt_port=70000, state_interval=0)
    assert [issue.field for issue in err.value.issues] == [
        "MH_UNIT_ID",
        "MH_MQTT_HOST",
        "MH_MQTT_PORT",
        "MH_STATE_INTERVAL",
    ]
    assert "MH_MQTT_PORT: must be a port from 1 to 65535" in str(err.value)
    with pytest.raises(EnvError, match="MH_STATE_INTERVAL: must be a finite number"):
        generated_env(UID, mqtt_host="h", state_interval=math.inf)


# --- merge -------------------------------------------------------------------------------


def test_layers_user_stored_generated_defaults(
    declared: dict[str, EnvKey], generated: dict[str, Any]
) -> None:
    """For each key the first layer that has it wins."""
    env = merge(
        declared,
        generated,
        user={"LABEL": "user", "MH_MQTT_HOST": "10.0.0.2"},
        stored={"LABEL": "stored", "SENSOR_PIN": 17, "MH_MQTT_HOST": "10.0.0.3", "GAIN": 2},
    )
    assert env["LABEL"] == "user"
    assert env["SENSOR_PIN"] == 17
    assert env["GAIN"] == 2
    assert env["VERBOSE"] is False
    assert env["MH_MQTT_HOST"] == "10.0.0.2"
    assert merge(declared, generated, stored={"MH_MQTT_HOST": "10.0.0.3"})["MH_MQTT_HOST"] == (
        "10.0.0.3"
    )
    assert merge(declared, generated)["MH_MQTT_HOST"] == "192.168.1.10"
    assert merge_env({}, {}, {**generated, "EXTRA": 1}, {}, {"EXTRA"})["EXTRA"] == 1


def test_order_and_undeclared_keys_dropped(
    declared: dict[str, EnvKey], generated: dict[str, Any]
) -> None:
    """MH_* first, then declared keys in order, then Wi-Fi; undeclared keys are dropped."""
    env = merge(
        declared,
        generated,
        user={"OLD_KEY": 1, "WIFI_PASS": "hunter2"},
        stored={"ANOTHER": "x", "WIFI_SSID": "space"},
    )
    assert list(env) == [
        *MH_KEYS,
        "SENSOR_PIN",
        "LABEL",
        "GAIN",
        "VERBOSE",
        "WIFI_SSID",
        "WIFI_PASS",
    ]
    assert env["WIFI_SSID"] == "space"
    assert env["WIFI_PASS"] == "hunter2"


def test_wifi_left_for_the_user(declared: dict[str, EnvKey], generated: dict[str, Any]) -> None:
    """Wi-Fi keys the repository does not declare are never generated or defaulted:
    omitted unless the user gave them."""
    declared = {name: key for name, key in declared.items() if name != "WIFI_SSID"}
    env = merge_env({}, {}, {**generated, "WIFI_SSID": "gen"}, {"WIFI_SSID": "dflt"}, declared)
    assert "WIFI_SSID" not in env
    assert "WIFI_PASS" not in env
    assert merge(declared, generated, user={"WIFI_SSID": ""})["WIFI_SSID"] == ""
    assert (
        merge(declared, generated, user={"WIFI_SSID": "a"}, stored={"WIFI_SSID": "b"})["WIFI_SSID"]
        == "a"
    )
    with pytest.raises(EnvError, match="WIFI_PASS: must be text"):
        merge(declared, generated, user={"WIFI_PASS": 1234})


def test_declared_wifi_keys_are_always_present(generated: dict[str, Any]) -> None:
    """A Pepeunit env_example.json declaring WIFI_SSID/WIFI_PASS as "": env.json has both,
    with that default when the user typed nothing (a program reads env['WIFI_PASS'])."""
    declared = declared_env({"WIFI_SSID": "", "WIFI_PASS": "", "PWM_FAN_PIN": 0})
    env = merge(declared, {**generated, "WIFI_SSID": "gen"})
    assert env["WIFI_SSID"] == ""
    assert env["WIFI_PASS"] == ""
    assert list(env)[-3:] == ["WIFI_SSID", "WIFI_PASS", "PWM_FAN_PIN"]
    env = merge(declared, generated, user={"WIFI_PASS": "hunter2"}, stored={"WIFI_SSID": "lab"})
    assert (env["WIFI_SSID"], env["WIFI_PASS"]) == ("lab", "hunter2")
    assert missing_keys(env, declared) == []


def test_hub_owned_keys(declared: dict[str, EnvKey], generated: dict[str, Any]) -> None:
    """Identity and credentials are the hub's: stale stored copies lose, user edits refused."""
    stale = dict.fromkeys(HUB_OWNED_KEYS, "stale")
    env = merge(declared, generated, stored=stale)
    assert {key: env[key] for key in HUB_OWNED_KEYS} == {k: generated[k] for k in HUB_OWNED_KEYS}
    same = merge(declared, generated, user={"MH_MQTT_PASSWORD": "broker-pass"})
    assert same["MH_MQTT_PASSWORD"] == "broker-pass"
    with pytest.raises(EnvError) as err:
        merge(declared, generated, user={"MH_TOKEN": "mine", "MH_UNIT_ID": "other"})
    assert [str(issue) for issue in err.value.issues] == [
        "MH_TOKEN: set by the hub; it cannot be changed",
        "MH_UNIT_ID: set by the hub; it cannot be changed",
    ]
    assert "mine" not in str(err.value)


def test_user_values_are_converted_to_declared_types(
    declared: dict[str, EnvKey], generated: dict[str, Any]
) -> None:
    """Text-form values become the declared type."""
    env = merge(
        declared,
        generated,
        user={
            "SENSOR_PIN": " 17 ",
            "GAIN": "2.5",
            "VERBOSE": "on",
            "MH_MQTT_PORT": 1884.0,
            "MH_MQTT_TLS": "false",
            "MH_STATE_INTERVAL": "7.5",
        },
    )
    assert (env["SENSOR_PIN"], env["GAIN"], env["VERBOSE"]) == (17, 2.5, True)
    assert (env["MH_MQTT_PORT"], env["MH_MQTT_TLS"], env["MH_STATE_INTERVAL"]) == (
        1884,
        False,
        7.5,
    )
    assert merge(declared, generated, user={"VERBOSE": "No", "GAIN": 3})["GAIN"] == 3
    assert merge(declared, generated, user={"VERBOSE": "No"})["VERBOSE"] is False


def test_user_type_errors_are_all_reported(
    declared: dict[str, EnvKey], generated: dict[str, Any]
) -> None:
    """Every wrong user value is listed with its key and reason, never its value."""
    with pytest.raises(EnvError) as err:
        merge(
            declared,
            generated,
            user={
                "SENSOR_PIN": "four",
                "GAIN": "nan",
                "VERBOSE": "maybe",
                "LABEL": 12,
                "CLOUD_ID": "line\x00break",
                "MH_MQTT_PORT": 0,
            },
        )
    assert {issue.field: issue.reason for issue in err.value.issues} == {
        "SENSOR_PIN": "must be an integer, not text",
        "GAIN": "must be a finite number",
        "VERBOSE": "must be true or false, not text",
        "LABEL": "must be text, not a number",
        "CLOUD_ID": "contains control characters",
        "MH_MQTT_PORT": "must be a port from 1 to 65535",
    }
    assert "four" not in str(err.value)
    assert "maybe" not in str(err.value)
    cases: list[tuple[str, Any, str]] = [
        ("SENSOR_PIN", True, "must be an integer, not true/false"),
        ("SENSOR_PIN", 1.5, "must be an integer, not a number"),
        ("SENSOR_PIN", [1], "must be an integer, not a list"),
        ("GAIN", False, "must be a number, not true/false"),
        ("GAIN", "", "must be a number, not empty text"),
        ("GAIN", {"a": 1}, "must be a number, not an object"),
        ("VERBOSE", 1, "must be true or false, not a number"),
        ("LABEL", "x" * 5000, "text of 5000 characters; at most 4096"),
        ("LABEL", b"bytes", "must be text, not bytes"),
    ]
    for key, value, reason in cases:
        with pytest.raises(EnvError) as one:
            merge(declared, generated, user={key: value})
        assert one.value.issues == (EnvIssue(key, reason),), key


def test_none_means_not_set(declared: dict[str, EnvKey], generated: dict[str, Any]) -> None:
    """A user clearing a field falls back to the next layer."""
    env = merge(declared, generated, user={"LABEL": None}, stored={"LABEL": "kept"})
    assert env["LABEL"] == "kept"
    assert merge(declared, generated, stored={"LABEL": None})["LABEL"] == "bench"


def test_stored_values_of_an_old_type_fall_through(
    declared: dict[str, EnvKey], generated: dict[str, Any]
) -> None:
    """A stored value the repository's new type refuses gives way to the default."""
    env = merge(
        declared,
        generated,
        stored={"SENSOR_PIN": "GPIO4", "VERBOSE": "yes", "MH_MQTT_PORT": "x"},
    )
    assert env["SENSOR_PIN"] == 4
    assert env["VERBOSE"] is True
    assert env["MH_MQTT_PORT"] == 8883


def test_missing_values_are_omitted_and_listed(
    declared: dict[str, EnvKey], generated: dict[str, Any]
) -> None:
    """A declared key with no value anywhere is left out; missing_keys names it."""
    env = merge(declared, generated)
    assert "CLOUD_ID" not in env
    assert missing_keys(env, declared) == ["CLOUD_ID"]
    full = merge(declared, generated, user={"CLOUD_ID": "abc"})
    assert full["CLOUD_ID"] == "abc"
    assert missing_keys(full, declared) == []
    assert missing_keys({}, ["A", "WIFI_SSID", "MH_TOKEN"]) == ["A", "WIFI_SSID"]


def test_declared_names_without_types(generated: dict[str, Any]) -> None:
    """Declared as plain names: any JSON scalar is accepted, other values are not."""
    env = merge_env(
        {"A": 1, "B": "x", "C": True, "D": 2.5}, {}, generated, {}, ["A", "B", "C", "D"]
    )
    assert (env["A"], env["B"], env["C"], env["D"]) == (1, "x", True, 2.5)
    with pytest.raises(EnvError, match="A: must be text, a number or true/false, not a list"):
        merge_env({"A": [1]}, {}, generated, {}, {"A"})
    with pytest.raises(EnvError, match="A: must be a finite number"):
        merge_env({"A": math.nan}, {}, generated, {}, {"A"})
    with pytest.raises(EnvError, match="a: key must match"):
        merge_env({"a": 1}, {}, generated, {}, {"a"})
    assert merge_env({}, {}, generated, {}, {"A": "not an EnvKey"}) == generated


def test_generated_keys_are_required(declared: dict[str, EnvKey]) -> None:
    """Without the hub's keys there is no env.json."""
    with pytest.raises(EnvError) as err:
        merge_env({}, {}, {"MH_UNIT_ID": UID}, {}, declared)
    assert err.value.issues[0] == EnvIssue("MH_MQTT_HOST", "missing from the generated keys")
    assert len(err.value.issues) == len(MH_KEYS) - 1


def test_check_value() -> None:
    """One value against one declared key."""
    assert check_value(EnvKey("PIN", type="int"), "5") == 5
    with pytest.raises(EnvError, match="PIN: must be an integer"):
        check_value(EnvKey("PIN", type="int"), "five")
    with pytest.raises(EnvError, match="PIN: must be an integer, not null"):
        check_value(EnvKey("PIN", type="int"), None)
    with pytest.raises(EnvError, match="NAME: must be text, not true/false"):
        check_value(EnvKey("NAME"), True)


# --- secrets -----------------------------------------------------------------------------


def test_secret_keys_and_redaction(declared: dict[str, EnvKey], generated: dict[str, Any]) -> None:
    """Passwords, tokens, declared secrets and secret-looking names are redacted."""
    assert secret_keys() == {"MH_MQTT_PASSWORD", "MH_TOKEN", "WIFI_PASS"}
    pepe = declared_env({"PU_AUTH_TOKEN": "jwt", "PU_SECRET_KEY": "k", "PWM_FAN_PIN": 0})
    assert secret_keys(pepe) >= {"PU_AUTH_TOKEN", "PU_SECRET_KEY"}
    assert "PWM_FAN_PIN" not in secret_keys(pepe)
    env = merge(declared, generated, user={"CLOUD_ID": "abc", "WIFI_PASS": "hunter2"})
    redacted = redact_env({**env, "API_KEY": "k", "DB_PASSWORD": "p"}, declared)
    for key in ("MH_MQTT_PASSWORD", "MH_TOKEN", "WIFI_PASS", "CLOUD_ID", "API_KEY", "DB_PASSWORD"):
        assert redacted[key] == REDACTED, key
    for key in ("MH_UNIT_ID", "MH_MQTT_USERNAME", "SENSOR_PIN", "LABEL"):
        assert redacted[key] == env[key], key
    assert redact_env({"CLOUD_ID": "abc"})["CLOUD_ID"] == "abc", "not declared secret here"
    assert env["CLOUD_ID"] == "abc", "the input is not changed"


def test_redact_schema_hides_secret_defaults() -> None:
    """A makerhub.json for diagnostics: the defaults of declared and secret-looking env
    keys are redacted, the rest is as it was; a schema without env is unchanged."""
    schema = parse_makerhub_json(
        {
            "name": "Cloud thermometer",
            "env": {
                "CLOUD_ID": {"default": "cloud-4711", "secret": True},
                "API_KEY": {"default": "k-123"},
                "DB_PASSWORD": {"type": "str"},
                "SENSOR_PIN": {"default": 4, "type": "int"},
            },
        }
    )
    assert redact_schema(schema)["env"] == {
        "CLOUD_ID": {"type": "str", "default": REDACTED, "secret": True},
        "API_KEY": {"type": "str", "default": REDACTED},
        "DB_PASSWORD": {"type": "str"},
        "SENSOR_PIN": {"type": "int", "default": 4},
    }
    assert schema.env["CLOUD_ID"].default == "cloud-4711", "the schema is not changed"
    plain = parse_makerhub_json({"name": "Relay", "inputs": {"on": {"type": "bool"}}})
    assert redact_schema(plain) == plain.to_json()
