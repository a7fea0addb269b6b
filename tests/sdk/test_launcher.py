"""Over-the-air updates end to end: a launcher process runs tiny unit programs from an
A/B root; updates arrive on ``sys/cmd`` and their outcome is watched on the broker."""

from __future__ import annotations

from collections.abc import Iterator
import json
import os
from pathlib import Path
import signal
import subprocess
import sys
from typing import Any

import pytest

from custom_components.makerhub.core.protocol import UnitTopics, build_schema_json, parse_state
from custom_components.makerhub.core.schema import parse_makerhub_json
from dev.processes.mosquitto import MosquittoBroker
from makerhub_unit.updater import RESTART_EXIT_CODE, UpdateManager

from .archives import digest, hub_archive
from .conftest import MAKERHUB_JSON, UID
from .httpserver import HttpServer
from .wire import Recorder

SDK = Path(__file__).parents[2] / "sdk" / "python"
TOPICS = UnitTopics("makerhub", UID)
CMD, EVENT, STATE, STATUS = (TOPICS.sys(name) for name in ("cmd", "event", "state", "status"))

UNIT_PROGRAM = """\
import time
from makerhub_unit import Unit

unit = Unit.from_files("env.json", "schema.json", "makerhub.json")
unit.start()
while True:
    time.sleep(1)
"""
CRASHING_PROGRAM = 'raise SystemExit("boom: this version cannot start")\n'
HANGING_PROGRAM = "import time\ntime.sleep(3600)\n"


@pytest.fixture
def server(socket_enabled: None) -> Iterator[HttpServer]:
    server = HttpServer()
    yield server
    server.close()


class Rig:
    """A unit root, its launcher process and a recorder on the broker."""

    def __init__(self, tmp_path: Path, broker: MosquittoBroker, recorder: Recorder) -> None:
        self.tmp = tmp_path
        self.broker = broker
        self.recorder = recorder
        self.root = tmp_path / "root"
        self.manager = UpdateManager(self.root)
        self.process: subprocess.Popen[bytes] | None = None
        self.schema = build_schema_json(TOPICS, parse_makerhub_json(MAKERHUB_JSON))

    def archive(self, version: str, program: str = UNIT_PROGRAM, fmt: str = "tar.gz") -> Path:
        env = {
            "MH_UNIT_ID": UID,
            "MH_MQTT_HOST": self.broker.host,
            "MH_MQTT_PORT": self.broker.port,
            "MH_STATE_INTERVAL": 0.3,
            "MH_VERSION": version,
        }
        files = {"main.py": program, "makerhub.json": json.dumps(MAKERHUB_JSON)}
        path = self.tmp / f"{version}.{fmt}"
        return hub_archive(path, files, env=env, schema=self.schema, fmt=fmt)

    def start(self, window: float = 10.0) -> None:
        self.manager.install(self.archive("v1"), "v1")
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "makerhub_unit.launcher", str(self.root)),
                *("--window", str(window), "--log-level", "debug"),
            ],
            env={**os.environ, "PYTHONPATH": str(SDK)},
        )

    def stop(self) -> int | None:
        if self.process is None:
            return None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(15)
        finally:
            self.process.kill()

    def send_update(self, version: str, url: str, sha256: str, size: int) -> None:
        command = {"cmd": "update", "version": version, "url": url, "sha256": sha256}
        self.recorder.publish(CMD, json.dumps({**command, "size": size}))

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(text) for text in self.recorder.texts(EVENT)]

    def wait_event(self, event: str, timeout: float = 15.0) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((e for e in self.events() if e["event"] == event), None)

        result: dict[str, Any] = self.recorder.wait_for(found, timeout, f"event {event}")
        return result

    def versions_reported(self) -> list[str]:
        return [str(parse_state(seen.payload).version) for seen in self.recorder.on(STATE)]

    def wait_version(self, version: str, timeout: float = 15.0) -> None:
        def latest() -> bool:
            reported = self.versions_reported()
            return bool(reported) and reported[-1] == version

        self.recorder.wait_for(latest, timeout, f"state reports of {version}")


@pytest.fixture
def rig(tmp_path: Path, broker: MosquittoBroker, recorder: Recorder) -> Iterator[Rig]:
    rig = Rig(tmp_path, broker, recorder)
    try:
        yield rig
    finally:
        rig.stop()


def test_update_switches_restarts_and_confirms(rig: Rig, server: HttpServer) -> None:
    rig.start()
    rig.wait_version("v1")
    archive = rig.archive("v2", fmt="zip")
    sha256, size = digest(archive)
    rig.send_update("v2", server.file("/fw/v2.zip", archive.read_bytes()), sha256, size)
    assert rig.wait_event("update_ok") == {"event": "update_ok", "version": "v2"}
    rig.wait_version("v2")
    assert [e["event"] for e in rig.events()] == ["update_started", "update_ok"]
    assert rig.events()[0] == {"event": "update_started", "version": "v2"}
    assert rig.manager.current_version() == "v2"
    state = rig.manager.state()
    assert (state.previous, state.pending, state.rollback) == ("v1", None, None)
    assert sorted(p.name for p in rig.manager.versions.iterdir()) == ["v1", "v2"]
    assert not list((rig.root / "tmp").iterdir())
    # the old process went offline cleanly before the new one came online
    assert rig.recorder.texts(STATUS)[-3:] == ["online", "offline", "online"]
    assert rig.stop() == 0


def test_crash_on_start_rolls_back(rig: Rig, server: HttpServer) -> None:
    rig.start()
    rig.wait_version("v1")
    archive = rig.archive("v2", program=CRASHING_PROGRAM)
    sha256, size = digest(archive)
    rig.send_update("v2", server.file("/fw/v2.tar.gz", archive.read_bytes()), sha256, size)
    event = rig.wait_event("rolled_back")
    assert event["version"] == "v2"
    assert event["error"] == "exited with code 1: boom: this version cannot start"
    rig.wait_version("v1")
    assert [e["event"] for e in rig.events()] == ["update_started", "rolled_back"]
    assert rig.manager.current_version() == "v1"
    state = rig.manager.state()
    assert state.pending is None
    assert state.rollback is not None
    assert (state.rollback.version, state.rollback.to, state.rollback.reported) == (
        "v2",
        "v1",
        True,
    )
    assert not rig.manager.version_dir("v2").exists()


def test_no_confirmation_within_the_window_rolls_back(rig: Rig, server: HttpServer) -> None:
    rig.start(window=1.5)
    rig.wait_version("v1")
    archive = rig.archive("v2", program=HANGING_PROGRAM)
    sha256, size = digest(archive)
    rig.send_update("v2", server.file("/fw/v2.tar.gz", archive.read_bytes()), sha256, size)
    event = rig.wait_event("rolled_back")
    assert event == {
        "event": "rolled_back",
        "version": "v2",
        "error": "did not confirm within 1.5 s",
    }
    rig.wait_version("v1")
    assert rig.manager.current_version() == "v1"


def test_failed_updates_switch_nothing(rig: Rig, server: HttpServer) -> None:
    rig.start()
    rig.wait_version("v1")
    good = rig.archive("v2")
    sha256, size = digest(good)
    url = server.file("/fw/v2.tar.gz", good.read_bytes())
    no_main = hub_archive(rig.tmp / "nomain.tar.gz", {"README.md": "nothing to run"})
    evil = hub_archive(rig.tmp / "evil.tar.gz", {"../escape.py": "x"})
    attempts = [
        (server.url("/fw/missing"), sha256, size, "download: HTTP 404 Not Found"),
        (url, "0" * 64, size, f"sha256 mismatch: expected {'0' * 64}, got {sha256}"),
        (url, sha256, size + 10, f"size mismatch: expected {size + 10} bytes, got {size}"),
        (url, sha256, size - 10, f"download: size mismatch: the server sends {size} bytes"),
        (
            server.file("/fw/nomain", no_main.read_bytes()),
            *digest(no_main),
            'no main.py, and makerhub.json declares no "run" command',
        ),
        (
            server.file("/fw/evil", evil.read_bytes()),
            *digest(evil),
            "archive: ../escape.py: path with '..' leaves the archive; refused",
        ),
    ]

    def failures() -> list[dict[str, Any]]:
        return [e for e in rig.events() if e["event"] == "update_failed"]

    for number, (source, checksum, length, error) in enumerate(attempts, start=1):
        rig.send_update("v2", source, checksum, length)
        rig.recorder.wait_for(lambda: len(failures()) >= number, 10, f"update_failed #{number}")  # noqa: B023
        failed = failures()[-1]
        assert failed["version"] == "v2"
        assert failed["error"].startswith(error), failed
    assert [e["event"] for e in rig.events()] == ["update_started", "update_failed"] * 6
    assert rig.manager.current_version() == "v1"
    assert sorted(p.name for p in rig.manager.versions.iterdir()) == ["v1"]
    assert rig.manager.state().pending is None
    assert rig.recorder.texts(STATUS) == ["online"]  # never restarted
    # ... and a good update still goes through afterwards
    rig.send_update("v2", url, sha256, size)
    rig.wait_event("update_ok")
    rig.wait_version("v2")


def test_restart_command_restarts_the_same_version(rig: Rig) -> None:
    rig.start()
    rig.wait_version("v1")
    rig.recorder.publish(CMD, json.dumps({"cmd": "restart"}))
    rig.recorder.wait_for(
        lambda: rig.recorder.texts(STATUS) == ["online", "offline", "online"], 15, "restart"
    )
    rig.wait_version("v1")
    assert RESTART_EXIT_CODE == 75
