"""``env_update`` and ``schema_update``: the unit refetches its file from the hub's API,
writes it where it read it from and applies it without a restart."""

from __future__ import annotations

from collections.abc import Iterator
import json
from pathlib import Path
import queue
from typing import Any

import pytest

from custom_components.makerhub.core.protocol import UnitTopics, build_schema_json
from custom_components.makerhub.core.schema import parse_makerhub_json
from dev.processes.mosquitto import MosquittoBroker
from makerhub_unit import Command, Unit, Value

from .conftest import LINKED_TOPIC, MAKERHUB_JSON, UID
from .httpserver import HttpServer
from .wire import Recorder

TOPICS = UnitTopics("makerhub", UID)
CMD, LOG, STATUS = TOPICS.sys("cmd"), TOPICS.sys("log"), TOPICS.sys("status")
TOKEN = "unit-token-123"
NEW_LINK = "makerhub/0d2c4e6a8b10/out/switch"


@pytest.fixture
def server(socket_enabled: None) -> Iterator[HttpServer]:
    server = HttpServer()
    yield server
    server.close()


class Files:
    def __init__(self, tmp_path: Path, broker: MosquittoBroker, server: HttpServer) -> None:
        self.env_data: dict[str, Any] = {
            "MH_UNIT_ID": UID,
            "MH_MQTT_HOST": broker.host,
            "MH_MQTT_PORT": broker.port,
            "MH_STATE_INTERVAL": 5,
            "MH_VERSION": "1.4.0",
            "MH_API_URL": server.url("/api/makerhub/"),
            "MH_TOKEN": TOKEN,
            "SENSOR_PIN": 4,
        }
        self.env = tmp_path / "env.json"
        self.schema = tmp_path / "schema.json"
        self.makerhub = tmp_path / "makerhub.json"
        self.env.write_text(json.dumps(self.env_data))
        self.schema.write_text(json.dumps(schema_json({"target": [LINKED_TOPIC]})))
        self.makerhub.write_text(json.dumps(MAKERHUB_JSON))


def schema_json(links: dict[str, list[str]]) -> dict[str, Any]:
    return build_schema_json(TOPICS, parse_makerhub_json(MAKERHUB_JSON), links=links)


@pytest.fixture
def files(tmp_path: Path, broker: MosquittoBroker, server: HttpServer) -> Files:
    return Files(tmp_path, broker, server)


@pytest.fixture
def unit(files: Files) -> Iterator[Unit]:
    unit = Unit.from_files(files.env, files.schema, files.makerhub)
    yield unit
    unit.stop()


def start(unit: Unit, recorder: Recorder) -> None:
    """Start the unit; return once the broker has its subscriptions.

    The state report follows the SUBSCRIBE on the unit's connection, and the broker
    handles one client's packets in order: seen the state, commands reach the unit.
    """
    assert unit.start(timeout=5)
    recorder.wait_texts(TOPICS.sys("state"), 1)


def commands_of(unit: Unit) -> queue.Queue[Command]:
    received: queue.Queue[Command] = queue.Queue()
    unit.on_command(received.put)
    return received


def wait_log(recorder: Recorder, text: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        for seen in recorder.on(LOG):
            record = json.loads(seen.payload)
            if text in record["text"]:
                return dict(record)
        return None

    result: dict[str, Any] = recorder.wait_for(found, 5, f"log {text!r}")
    return result


def test_schema_update_refetches_and_resubscribes(
    unit: Unit, files: Files, server: HttpServer, recorder: Recorder
) -> None:
    new_schema = schema_json({"target": [LINKED_TOPIC], "relay": [NEW_LINK]})
    server.json(f"/api/makerhub/units/{UID}/schema.json", new_schema, token=TOKEN)
    relays: queue.Queue[Value] = queue.Queue()
    unit.on_input("relay", relays.put)
    received = commands_of(unit)
    start(unit, recorder)
    recorder.publish(CMD, json.dumps({"cmd": "schema_update"}))
    assert received.get(timeout=5).cmd == "schema_update"  # once applied
    assert json.loads(files.schema.read_text()) == new_schema
    assert server.requests[-1][1]["Authorization"] == f"Bearer {TOKEN}"
    recorder.publish(NEW_LINK, "true", retain=True)  # the SUBSCRIBE may still be in flight
    assert relays.get(timeout=5) is True


def test_schema_update_failures_keep_the_old_file(
    unit: Unit, files: Files, server: HttpServer, recorder: Recorder
) -> None:
    before = files.schema.read_text()
    received = commands_of(unit)
    start(unit, recorder)
    path = f"/api/makerhub/units/{UID}/schema.json"
    server.json(path, schema_json({}), token="another token")
    recorder.publish(CMD, json.dumps({"cmd": "schema_update"}))
    record = wait_log(recorder, "schema_update failed")
    assert record["level"] == "error"
    assert record["text"] == (
        f"schema_update failed: GET {server.url(path)}: HTTP 401 Unauthorized"
    )
    other = build_schema_json(
        UnitTopics("makerhub", "0d2c4e6a8b10"), parse_makerhub_json(MAKERHUB_JSON)
    )
    server.json(path, other, token=TOKEN)
    recorder.publish(CMD, json.dumps({"cmd": "schema_update"}))
    wait_log(recorder, "unit 0d2c4e6a8b10 is not this unit (3f9a0c71be42)")
    server.json(path, b"{not json", token=TOKEN)
    recorder.publish(CMD, json.dumps({"cmd": "schema_update"}))
    wait_log(recorder, "schema.json is not valid JSON")
    assert files.schema.read_text() == before
    assert received.empty()
    assert TOKEN not in "".join(recorder.texts(LOG))


def test_env_update_refetches_merges_and_reconnects(
    unit: Unit, files: Files, server: HttpServer, recorder: Recorder
) -> None:
    served = {
        "MH_UNIT_ID": UID,
        "MH_MQTT_HOST": files.env_data["MH_MQTT_HOST"],
        "MH_MQTT_PORT": files.env_data["MH_MQTT_PORT"],
        "MH_MQTT_USERNAME": "unit-3f9a",
        "MH_MQTT_PASSWORD": "new-password",
        "MH_STATE_INTERVAL": 0.2,
        "MH_VERSION": "9.9.9",
        "SENSOR_PIN": 7,
    }
    server.json(f"/api/makerhub/units/{UID}/env.json", served, token=TOKEN)
    received = commands_of(unit)
    start(unit, recorder)
    recorder.publish(CMD, json.dumps({"cmd": "env_update"}))
    assert received.get(timeout=5).cmd == "env_update"
    on_disk = json.loads(files.env.read_text())
    assert on_disk == {
        **files.env_data,
        **served,
        "MH_VERSION": "1.4.0",  # describes the firmware installed here: kept
    }
    assert on_disk["MH_API_URL"] == files.env_data["MH_API_URL"]  # not served: kept
    assert unit.env["SENSOR_PIN"] == 7
    # new broker credentials: a clean reconnect, online again
    recorder.wait_for(lambda: recorder.texts(STATUS) == ["online", "online"], 5, "reconnect")
    assert unit.wait_connected(5)
    # the new state interval applies
    state = TOPICS.sys("state")
    count = len(recorder.on(state))
    recorder.wait_for(lambda: len(recorder.on(state)) >= count + 5, 3, "faster state reports")


def test_env_update_failure_keeps_the_old_file(
    unit: Unit, files: Files, server: HttpServer, recorder: Recorder
) -> None:
    before = files.env.read_text()
    path = f"/api/makerhub/units/{UID}/env.json"
    received = commands_of(unit)
    start(unit, recorder)
    server.json(path, {"MH_UNIT_ID": UID, "MH_MQTT_PORT": "not a port"}, token=TOKEN)
    recorder.publish(CMD, json.dumps({"cmd": "env_update"}))
    wait_log(recorder, "env_update failed: ")
    assert "MH_MQTT_PORT must be a number" in wait_log(recorder, "env_update failed")["text"]
    server.json(path, {"MH_UNIT_ID": "0d2c4e6a8b10"}, token=TOKEN)
    recorder.publish(CMD, json.dumps({"cmd": "env_update"}))
    wait_log(recorder, "MH_UNIT_ID 0d2c4e6a8b10 is not this unit's 3f9a0c71be42")
    assert files.env.read_text() == before
    assert unit.env["SENSOR_PIN"] == 4
    assert received.empty()
    assert recorder.texts(STATUS) == ["online"]


def test_without_an_api_commands_go_to_callbacks(
    unit_files: dict[str, Path], recorder: Recorder
) -> None:
    unit = Unit.from_files(unit_files["env"], unit_files["schema"], unit_files["makerhub"])
    received = commands_of(unit)
    try:
        start(unit, recorder)
        for cmd in ("env_update", "schema_update", "restart"):
            recorder.publish(CMD, json.dumps({"cmd": cmd}))
            assert received.get(timeout=5).cmd == cmd
        update = {
            "cmd": "update",
            "version": "2.0.0",
            "url": "http://127.0.0.1:1/fw.tar.gz",
            "sha256": "0" * 64,
            "size": 10,
        }
        recorder.publish(CMD, json.dumps(update))
        command = received.get(timeout=5)
        assert command.update is not None
        assert command.update.version == "2.0.0"
    finally:
        unit.stop()
