"""Unit protocol v1: topics, payload parsers, schema.json."""

from __future__ import annotations

import json
from typing import Any

import pytest

from custom_components.makerhub.core.errors import BadInputError
from custom_components.makerhub.core.protocol import (
    MAX_PAYLOAD_BYTES,
    UnitTopics,
    adopted_topic,
    announce_topic,
    build_schema_json,
    command,
    decode_json,
    decode_text,
    new_unit_id,
    parse_announce_topic,
    parse_announcement,
    parse_event,
    parse_log,
    parse_state,
    validate_prefix,
)
from custom_components.makerhub.core.schema import parse_makerhub_json

SCHEMA = {"name": "x", "outputs": {"t": {"type": "float"}}, "inputs": {"on": {"type": "bool"}}}


def test_unit_ids_are_unique_hex() -> None:
    """Unit ids are 12 lowercase hex characters, fresh each time."""
    ids = {new_unit_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(uid) == 12 and uid == uid.lower() for uid in ids)
    assert all(int(uid, 16) >= 0 for uid in ids)


@pytest.mark.parametrize("prefix", ["makerhub", "space/one", "a-b_c", "x" * 64])
def test_valid_prefixes(prefix: str) -> None:
    """Plain levels are valid prefixes."""
    assert validate_prefix(prefix) == prefix


@pytest.mark.parametrize("prefix", ["", "a/+", "#", "/a", "a/", "a//b", "a b", "x" * 65, "$SYS"])
def test_invalid_prefixes(prefix: str) -> None:
    """Wildcards, empty levels, spaces and $-topics are refused."""
    with pytest.raises(ValueError, match=r"."):
        validate_prefix(prefix)


def test_topics() -> None:
    """Every topic of a unit is built in one place."""
    topics = UnitTopics("space", "0123456789ab")
    assert topics.output("t") == "space/0123456789ab/out/t"
    assert topics.input("on") == "space/0123456789ab/in/on"
    assert topics.sys("state") == "space/0123456789ab/sys/state"
    assert announce_topic("space", "x") == "space/announce/x"
    assert adopted_topic("space", "x") == "space/announce/x/adopted"


def test_schema_json_lists_links_after_own_topic() -> None:
    """An input lists its own topic first, then the outputs linked to it."""
    schema = parse_makerhub_json(SCHEMA)
    document = build_schema_json(
        UnitTopics("m", "aaaaaaaaaaaa"), schema, {"on": ["m/bbbbbbbbbbbb/out/door"]}
    )
    assert document["inputs"] == {"on": ["m/aaaaaaaaaaaa/in/on", "m/bbbbbbbbbbbb/out/door"]}
    assert document["outputs"] == {"t": ["m/aaaaaaaaaaaa/out/t"]}
    assert document["v"] == 1
    assert set(document["sys"]) == {"status", "state", "log", "cmd", "event", "schema"}


def test_payload_limits() -> None:
    """Oversized and non-UTF-8 payloads are refused before parsing."""
    assert decode_text(b"ok") == "ok"
    assert decode_text("ok") == "ok"
    with pytest.raises(BadInputError) as err:
        decode_text(b"x" * (MAX_PAYLOAD_BYTES + 1))
    assert err.value.reason == "oversized"
    with pytest.raises(BadInputError) as err:
        decode_text("é" * (MAX_PAYLOAD_BYTES // 2 + 1))
    assert err.value.reason == "oversized"
    with pytest.raises(BadInputError) as err:
        decode_text(b"\xc3\x28")
    assert err.value.reason == "malformed"
    with pytest.raises(BadInputError) as err:
        decode_json(b"{")
    assert err.value.reason == "malformed"


def test_state() -> None:
    """A state needs a version; other fields are optional integers."""
    state = parse_state(json.dumps({"version": "1.2", "ip": "1.2.3.4", "uptime_ms": 5}))
    assert (state.version, state.ip, state.uptime_ms, state.rssi) == ("1.2", "1.2.3.4", 5, None)
    for bad in ({"version": ""}, {"version": "1", "ip": 4}, {"version": "1", "freq": True}):
        with pytest.raises(BadInputError):
            parse_state(json.dumps(bad))


def test_log_and_event() -> None:
    """Logs are one record or a list; events are one of the update events."""
    records = parse_log(json.dumps({"text": "x" * 2000}))
    assert records[0].level == "info"
    assert len(records[0].text) == 1024
    with pytest.raises(BadInputError):
        parse_log(json.dumps({"text": "x", "ts": "now"}))
    event = parse_event(json.dumps({"event": "rolled_back", "version": "a", "error": "boom"}))
    assert (event.event, event.version, event.error) == ("rolled_back", "a", "boom")
    with pytest.raises(BadInputError):
        parse_event(json.dumps({"event": "update_ok", "error": 5}))


def test_command() -> None:
    """Commands are compact JSON."""
    assert json.loads(command("update", version="a", size=3)) == {
        "cmd": "update",
        "version": "a",
        "size": 3,
    }


def test_announce_topic_parsing() -> None:
    """Only P/announce/<id> with a valid id is an announcement."""
    assert parse_announce_topic("m", "m/announce/abc-1_X") == "abc-1_X"
    for topic in ("m/announce/", "m/announce/a/adopted", "n/announce/a", "m/announce/a b"):
        with pytest.raises(BadInputError):
            parse_announce_topic("m", topic)


def test_announcement() -> None:
    """Announcements carry name, model, schema and (once adopted) the unit id."""
    payload: dict[str, Any] = {"model": "sim", "schema": SCHEMA, "unit": "0123456789ab"}
    announcement = parse_announcement("a1", json.dumps(payload))
    assert announcement.name == "x"  # defaults to the schema's name
    assert announcement.uid == "0123456789ab"
    for bad in (
        {**payload, "unit": "XYZ"},
        {**payload, "model": 5},
        {**payload, "name": ""},
        {**payload, "schema": {"name": "x", "outputs": {"A": {"type": "int"}}}},
    ):
        with pytest.raises(BadInputError):
            parse_announcement("a1", json.dumps(bad))
