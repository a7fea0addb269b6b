"""A unit built from env.json + schema.json, against a real broker, watched from the wire."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
import signal
import subprocess
import sys
import threading
import time

import pytest

from custom_components.makerhub.core.protocol import parse_log, parse_state
from dev.processes.mosquitto import MosquittoBroker
from makerhub_unit import Command, InvalidValueError, Unit, Value

from .conftest import LINKED_TOPIC, UID
from .wire import Recorder

SDK = Path(__file__).parents[2] / "sdk" / "python"
STATUS = f"makerhub/{UID}/sys/status"
STATE = f"makerhub/{UID}/sys/state"


@pytest.fixture
def unit(unit_files: dict[str, Path]) -> Unit:
    return Unit.from_files(unit_files["env"], unit_files["schema"], unit_files["makerhub"])


def test_online_retained_state_at_interval_and_offline_on_stop(
    unit: Unit, broker: MosquittoBroker
) -> None:
    assert unit.start(timeout=5)
    assert unit.env["SENSOR_PIN"] == 4
    with_retained = Recorder(broker.host, broker.port, [STATUS, STATE], client_id="late")
    try:
        status = with_retained.wait_for(lambda: with_retained.on(STATUS), what="status")
        assert (status[0].text, status[0].retain) == ("online", True)
        with_retained.wait_texts(STATE, count=4, timeout=5)
        states = with_retained.on(STATE)
        gaps = [b.at - a.at for a, b in itertools.pairwise(states)]
        assert all(0.15 < gap < 0.9 for gap in gaps), gaps
        for seen in states:
            state = parse_state(seen.payload)  # the hub's own parser accepts it
            assert state.version == "1.4.0"
            assert state.ip == "127.0.0.1"
            assert state.uptime_ms is not None
        assert parse_state(states[-1].payload).uptime_ms > parse_state(states[0].payload).uptime_ms  # type: ignore[operator]
        unit.stop()
        with_retained.wait_for(lambda: with_retained.texts(STATUS)[-1] == "offline", what="offline")
    finally:
        with_retained.close()
        unit.stop()
    again = Recorder(broker.host, broker.port, [STATUS], client_id="later")
    try:
        seen = again.wait_for(lambda: again.on(STATUS), what="retained status")
        assert (seen[0].text, seen[0].retain) == ("offline", True)
    finally:
        again.close()


def test_last_will_when_the_connection_drops(unit: Unit, recorder: Recorder) -> None:
    unit.start(timeout=5)
    try:
        recorder.wait_texts(STATUS, 1)
        unit._session.link.abort()  # type: ignore[union-attr]  # no DISCONNECT: a crash
        recorder.wait_for(lambda: "offline" in recorder.texts(STATUS), what="last will")
        # ...and the unit comes back on its own.
        recorder.wait_for(lambda: recorder.texts(STATUS)[-1] == "online", 5, "back online")
        assert recorder.texts(STATUS) == ["online", "offline", "online"]
    finally:
        unit.stop()


def test_last_will_when_the_process_is_killed(
    unit_files: dict[str, Path], recorder: Recorder
) -> None:
    program = (
        "import sys, time\n"
        "from makerhub_unit import Unit\n"
        "unit = Unit.from_files(sys.argv[1], sys.argv[2])\n"
        "unit.start()\n"
        "print('up', flush=True)\n"
        "time.sleep(60)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SDK)}
    process = subprocess.Popen(
        [sys.executable, "-c", program, str(unit_files["env"]), str(unit_files["schema"])],
        env=env,
        stdout=subprocess.PIPE,
    )
    try:
        recorder.wait_for(lambda: "online" in recorder.texts(STATUS), 10, "online")
        process.send_signal(signal.SIGKILL)
        process.wait(5)
        recorder.wait_for(lambda: recorder.texts(STATUS)[-1:] == ["offline"], 5, "last will")
        assert recorder.on(STATUS)[-1].retain is False  # delivered live; the broker keeps it
    finally:
        process.kill()
        process.wait()
        assert process.stdout is not None
        process.stdout.close()


def test_outputs_on_their_topics_with_wire_encoding(unit: Unit, recorder: Recorder) -> None:
    unit.start(timeout=5)
    try:
        sent: dict[str, Value] = {
            "temperature": 21.5,
            "door_open": True,
            "mode": "heating",
            "counter": 42,
            "note": "hi",
        }
        for name, value in sent.items():
            unit.publish(name, value)
        unit.publish("door_open", False)
        base = f"makerhub/{UID}/out"
        assert recorder.wait_texts(f"{base}/temperature") == ["21.5"]
        assert recorder.wait_texts(f"{base}/door_open", 2) == ["true", "false"]
        assert recorder.wait_texts(f"{base}/mode") == ["heating"]
        assert recorder.wait_texts(f"{base}/counter") == ["42"]
        assert recorder.wait_texts(f"{base}/note") == ["hi"]
        assert all(not m.retain for m in recorder.messages if "/out/" in m.topic)
        with pytest.raises(InvalidValueError, match="outside"):
            unit.publish("temperature", 120.0)
        with pytest.raises(ValueError, match="not a declared output"):
            unit.publish("humidity", 50.0)
        assert unit.stats.published == 6
        assert unit.last_values["door_open"] is False
    finally:
        unit.stop()


def test_inputs_from_own_and_linked_topics_typed_and_validated(
    unit: Unit, recorder: Recorder
) -> None:
    got: list[tuple[str, Value]] = []
    lock = threading.Lock()

    def collect(name: str) -> None:
        def callback(value: Value) -> None:
            with lock:
                got.append((name, value))

        unit.on_input(name, callback)

    for name in ("target", "relay", "level"):
        collect(name)
    recorder.publish(f"makerhub/{UID}/in/target", "21.5", retain=True)  # waiting when it starts
    unit.start(timeout=5)
    try:
        recorder.wait_for(lambda: ("target", 21.5) in got, what="retained in/target")
        recorder.publish(LINKED_TOPIC, "18")  # another unit's output, linked in schema.json
        recorder.publish(f"makerhub/{UID}/in/relay", "on")
        recorder.publish(f"makerhub/{UID}/in/level", "42")
        recorder.wait_for(lambda: len(got) >= 4, what="four inputs")
        for bad_topic, bad in (
            (LINKED_TOPIC, "warm"),
            (f"makerhub/{UID}/in/target", "99"),
            (f"makerhub/{UID}/in/relay", "maybe"),
            (f"makerhub/{UID}/in/level", b"\xff\xfe"),
        ):
            recorder.publish(bad_topic, bad)
        recorder.publish(f"makerhub/{UID}/in/level", "7")  # the unit still works
        recorder.wait_for(lambda: ("level", 7) in got, what="valid value after invalid ones")
        assert got == [
            ("target", 21.5),
            ("target", 18.0),
            ("relay", True),
            ("level", 42),
            ("level", 7),
        ]
        assert isinstance(got[1][1], float)
        assert unit.stats.invalid_inputs == 4
        assert unit.inputs == {"target": 18.0, "relay": True, "level": 7}
    finally:
        unit.stop()


def test_without_makerhub_json_inputs_arrive_as_text(
    unit_files: dict[str, Path], recorder: Recorder
) -> None:
    unit = Unit.from_files(unit_files["env"], unit_files["schema"])
    got: list[Value] = []
    unit.on_input("target", got.append)
    unit.start(timeout=5)
    try:
        recorder.publish(LINKED_TOPIC, "21.5")
        recorder.wait_for(lambda: got, what="input")
        assert got == ["21.5"]
        unit.publish("counter", 3)
        assert recorder.wait_texts(f"makerhub/{UID}/out/counter") == ["3"]
        with pytest.raises(ValueError, match=r"not an output in schema\.json"):
            unit.publish("humidity", 1)
    finally:
        unit.stop()


def test_commands_and_logs(unit: Unit, recorder: Recorder) -> None:
    commands: list[Command] = []
    unit.on_command(commands.append)
    unit.start(timeout=5)
    try:
        cmd_topic = f"makerhub/{UID}/sys/cmd"
        for payload in ('{"cmd":"dance"}', "not json", '{"cmd":"restart"}', '{"cmd":"log_sync"}'):
            recorder.publish(cmd_topic, payload)
        recorder.wait_for(lambda: len(commands) >= 2, what="commands")
        assert [c.cmd for c in commands] == ["restart", "log_sync"]
        assert unit.stats.invalid_commands == 1
        unit.log("warning", "disk almost full")
        with pytest.raises(ValueError, match="log level"):
            unit.log("loud", "x")
        (record,) = parse_log(recorder.wait_texts(f"makerhub/{UID}/sys/log")[0])
        assert (record.level, record.text) == ("warning", "disk almost full")
        assert record.ts is not None
        assert abs(record.ts - time.time()) < 10
        unit.send_event("update_ok", version="a1b2c3d")
        event = json.loads(recorder.wait_texts(f"makerhub/{UID}/sys/event")[0])
        assert event == {"event": "update_ok", "version": "a1b2c3d"}
    finally:
        unit.stop()


def test_stop_leaves_no_threads(unit: Unit, recorder: Recorder) -> None:
    before = set(threading.enumerate())
    assert unit.start(timeout=5)
    assert len(set(threading.enumerate()) - before) == 1
    unit.publish("counter", 1)
    unit.stop()
    assert set(threading.enumerate()) == before
    unit.stop()  # a second stop is harmless
    assert recorder.wait_texts(STATUS, 2) == ["online", "offline"]


def test_version_is_required(unit_files: dict[str, Path]) -> None:
    env = json.loads(unit_files["env"].read_text())
    del env["MH_VERSION"]
    unit_files["env"].write_text(json.dumps(env))
    with pytest.raises(ValueError, match="MH_VERSION"):
        Unit.from_files(unit_files["env"], unit_files["schema"])
    assert Unit.from_files(unit_files["env"], unit_files["schema"], version="2.0") is not None
