"""Fixtures for the unit library tests: a real broker, a wire recorder, a stand-in hub."""

from __future__ import annotations

from collections.abc import Iterator
import json
from pathlib import Path
from typing import Any

import pytest

from custom_components.makerhub.core.protocol import UnitTopics, build_schema_json
from custom_components.makerhub.core.schema import parse_makerhub_json
from dev.processes.mosquitto import MosquittoBroker

from .wire import FakeHub, Recorder

UID = "3f9a0c71be42"
LINKED_UID = "0d2c4e6a8b10"
LINKED_TOPIC = f"makerhub/{LINKED_UID}/out/setpoint"

MAKERHUB_JSON: dict[str, Any] = {
    "name": "Bench thermometer",
    "platforms": ["python"],
    "outputs": {
        "temperature": {"type": "float", "unit": "°C", "min": -40, "max": 85},
        "door_open": {"type": "bool", "device_class": "door"},
        "mode": {"type": "enum", "options": ["idle", "heating", "error"]},
        "counter": {"type": "int"},
        "note": {"type": "str", "max_length": 8},
    },
    "inputs": {
        "target": {"type": "float", "min": 5, "max": 30, "step": 0.5},
        "relay": {"type": "bool"},
        "label": {"type": "str", "max_length": 8},
        "level": {"type": "int", "min": 0, "max": 100},
    },
}


@pytest.fixture
def broker(mosquitto: MosquittoBroker, socket_enabled: None) -> MosquittoBroker:
    """A real Mosquitto, with sockets allowed for the test."""
    return mosquitto


@pytest.fixture
def recorder(broker: MosquittoBroker) -> Iterator[Recorder]:
    """Everything published under ``makerhub/``, as a subscriber sees it."""
    recorder = Recorder(broker.host, broker.port, ["makerhub/#"])
    yield recorder
    recorder.close()


@pytest.fixture
def hub(broker: MosquittoBroker) -> Iterator[FakeHub]:
    """A stand-in hub that adopts every announcing unit."""
    hub = FakeHub(broker.host, broker.port)
    yield hub
    hub.close()


@pytest.fixture
def unit_files(tmp_path: Path, broker: MosquittoBroker) -> dict[str, Path]:
    """``env.json``, ``schema.json`` (input ``target`` linked to another unit's output) and
    ``makerhub.json`` of a file-based unit."""
    env = {
        "MH_UNIT_ID": UID,
        "MH_MQTT_HOST": broker.host,
        "MH_MQTT_PORT": broker.port,
        "MH_MQTT_TLS": False,
        "MH_STATE_INTERVAL": 0.3,
        "MH_VERSION": "1.4.0",
        "SENSOR_PIN": 4,
    }
    schema_json = build_schema_json(
        UnitTopics("makerhub", UID),
        parse_makerhub_json(MAKERHUB_JSON),
        links={"target": [LINKED_TOPIC]},
    )
    paths = {
        "env": tmp_path / "env.json",
        "schema": tmp_path / "schema.json",
        "makerhub": tmp_path / "makerhub.json",
    }
    paths["env"].write_text(json.dumps(env))
    paths["schema"].write_text(json.dumps(schema_json))
    paths["makerhub"].write_text(json.dumps(MAKERHUB_JSON))
    return paths
