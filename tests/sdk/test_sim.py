"""The fleet simulator: real self-describing units, in-process and as the CLI."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
import re
import signal
import subprocess
import sys
import time

from custom_components.makerhub.core.protocol import (
    UnitTopics,
    build_schema_json,
    parse_state,
)
from custom_components.makerhub.core.schema import parse_makerhub_json
from dev.processes.mosquitto import MosquittoBroker
from makerhub_unit.fleet import Fleet, FleetConfig
from makerhub_unit.sim_kinds import KINDS

from .wire import FakeHub, Recorder

SDK = Path(__file__).parents[2] / "sdk" / "python"


def last_texts(recorder: Recorder) -> dict[str, str]:
    """Return the last payload seen on every ``out`` topic."""
    last: dict[str, str] = {}
    for message in recorder.messages:
        if "/out/" in message.topic:
            last[message.topic] = message.text
    return last


def wire_text(value: object) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def test_fleet_adopts_publishes_at_rate_mirrors_and_goes_offline(
    broker: MosquittoBroker, hub: FakeHub, recorder: Recorder, tmp_path: Path
) -> None:
    config = FleetConfig(
        host=broker.host,
        port=broker.port,
        units=8,
        rate=10,
        state_interval=0.5,
        state_dir=tmp_path / "state",
        values_log=tmp_path / "values.jsonl",
        seed=7,
    )
    fleet = Fleet(config)
    assert [unit.announce_id for unit in fleet.units][:5] == [
        "sim-thermometer-1",
        "sim-relay-2",
        "sim-door-3",
        "sim-dimmer-4",
        "sim-thermometer-5",
    ]
    fleet.start()
    try:
        hub.wait_adopted(8)
        recorder.wait_for(lambda: fleet.ready == 8, what="all eight ready")
        uid = {unit.announce_id: hub.uids[unit.announce_id] for unit in fleet.units}
        assert sorted(p.name for p in (tmp_path / "state").iterdir()) == sorted(
            f"{announce_id}.schema.json" for announce_id in uid
        )

        # Rate: 8 units x 10 msg/s, measured on the wire over two seconds.
        start = time.monotonic()
        time.sleep(2.0)
        window = [
            m for m in recorder.messages if "/out/" in m.topic and start <= m.at < start + 2.0
        ]
        assert 0.75 * 160 <= len(window) <= 1.25 * 160, len(window)

        # Realistic values: thermometer temperatures wander smoothly, within their range.
        temperatures = [
            float(t) for t in recorder.texts(f"makerhub/{uid['sim-thermometer-1']}/out/temperature")
        ]
        assert len(temperatures) >= 5
        assert all(-40 <= t <= 85 for t in temperatures)
        assert max(abs(b - a) for a, b in itertools.pairwise(temperatures)) < 1

        # Inputs are mirrored to outputs at once.
        relay, dimmer = uid["sim-relay-2"], uid["sim-dimmer-4"]
        recorder.publish(f"makerhub/{relay}/in/relay", "true", retain=True)
        recorder.publish(f"makerhub/{dimmer}/in/level", "42", retain=True)
        recorder.publish(f"makerhub/{dimmer}/in/mode", "night", retain=True)
        recorder.publish(f"makerhub/{dimmer}/in/level", "500")  # out of range: dropped
        recorder.wait_for(
            lambda: "true" in recorder.texts(f"makerhub/{relay}/out/state"), what="relay on"
        )
        recorder.wait_for(
            lambda: "42" in recorder.texts(f"makerhub/{dimmer}/out/level_actual"), what="level"
        )
        recorder.wait_for(
            lambda: "night" in recorder.texts(f"makerhub/{dimmer}/out/mode"), what="mode"
        )
        recorder.wait_for(
            lambda: fleet.units[3].session.stats.invalid_inputs == 1, what="500 refused"
        )
        assert "500" not in recorder.texts(f"makerhub/{dimmer}/out/level_actual")

        # State reports carry the version and a simulated rssi.
        state = parse_state(recorder.wait_texts(f"makerhub/{relay}/sys/state")[-1])
        assert state.version.startswith("makerhub-sim")
        assert state.rssi is not None
        assert -95 <= state.rssi <= -30
    finally:
        summary = fleet.stop()
    assert summary.units == summary.adopted == 8
    assert summary.published >= 160
    assert summary.dropped == 0
    for announce_id, unit_uid in uid.items():
        status = f"makerhub/{unit_uid}/sys/status"
        recorder.wait_for(lambda t=status: recorder.texts(t)[-1:] == ["offline"], what=announce_id)

    # The values log holds each unit's last published outputs, as the wire last saw them.
    time.sleep(0.2)
    records = [json.loads(line) for line in (tmp_path / "values.jsonl").read_text().splitlines()]
    assert [r["announce_id"] for r in records] == [u.announce_id for u in fleet.units]
    last = last_texts(recorder)
    for record in records:
        assert record["uid"] == uid[record["announce_id"]]
        assert set(record["outputs"]) == set(KINDS[record["kind"]].schema["outputs"])
        for name, value in record["outputs"].items():
            assert last[f"makerhub/{record['uid']}/out/{name}"] == wire_text(value), name
    dimmer_record = next(r for r in records if r["announce_id"] == "sim-dimmer-4")
    assert dimmer_record["outputs"] == {"level_actual": 42, "mode": "night"}


def test_cli_with_pre_created_state_skips_adoption_and_stops_on_sigterm(
    broker: MosquittoBroker, recorder: Recorder, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    config = FleetConfig(units=4, id_prefix="bench")
    uids = {}
    for index, (announce_id, kind) in enumerate(config.plan()):
        uids[announce_id] = f"{index:012x}"
        schema_json = build_schema_json(
            UnitTopics("makerhub", uids[announce_id]), parse_makerhub_json(KINDS[kind].schema)
        )
        (state_dir / f"{announce_id}.schema.json").write_text(json.dumps(schema_json))
    values_log = tmp_path / "values.jsonl"
    values_log.write_text('{"from": "an earlier run"}\n')
    command = [
        sys.executable, "-m", "makerhub_unit.sim",
        "--host", broker.host, "--port", str(broker.port),
        "--units", "4", "--id-prefix", "bench", "--rate", "5", "--qos", "1",
        "--state-dir", str(state_dir), "--values-log", str(values_log),
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        env={**os.environ, "PYTHONPATH": str(SDK)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for uid in uids.values():
            recorder.wait_for(
                lambda u=uid: any(
                    m.topic.startswith(f"makerhub/{u}/out/") for m in recorder.messages
                ),
                10,
                f"outputs of {uid}",
            )
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert stdout.startswith("makerhub-sim: 4 units (4 adopted)"), stdout
    assert "0 dropped" in stdout
    for uid in uids.values():
        assert recorder.wait_texts(f"makerhub/{uid}/sys/status", 2) == ["online", "offline"]
    announced = [json.loads(m.payload) for m in recorder.messages if "/announce/" in m.topic]
    assert sorted(a["unit"] for a in announced) == sorted(uids.values())
    lines = values_log.read_text().splitlines()
    assert lines[0] == '{"from": "an earlier run"}'
    records = [json.loads(line) for line in lines[1:]]
    assert {r["announce_id"]: r["uid"] for r in records} == uids
    last = last_texts(recorder)
    for record in records:
        for name, value in record["outputs"].items():
            assert last[f"makerhub/{record['uid']}/out/{name}"] == wire_text(value)


def test_stream_phases_keep_units_online(
    broker: MosquittoBroker, recorder: Recorder, tmp_path: Path
) -> None:
    """--stream-after: only state first; --stream-seconds: outputs stop, units stay online."""
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    config = FleetConfig(units=2, kinds=("thermometer",), id_prefix="phase")
    for index, (announce_id, kind) in enumerate(config.plan()):
        schema_json = build_schema_json(
            UnitTopics("makerhub", f"{index:012x}"), parse_makerhub_json(KINDS[kind].schema)
        )
        (state_dir / f"{announce_id}.schema.json").write_text(json.dumps(schema_json))
    values_log = tmp_path / "values.jsonl"
    process = subprocess.Popen(
        [
            sys.executable, "-m", "makerhub_unit.sim",
            "--host", broker.host, "--port", str(broker.port),
            "--units", "2", "--kinds", "thermometer", "--id-prefix", "phase",
            "--rate", "20", "--state-interval", "0.5", "--stream-after", "1",
            "--stream-seconds", "1", "--state-dir", str(state_dir),
            "--values-log", str(values_log),
        ],
        env={**os.environ, "PYTHONPATH": str(SDK)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip

    def outputs() -> int:
        return sum("/out/" in m.topic for m in recorder.messages)

    def states() -> int:
        return sum(m.topic.endswith("/sys/state") for m in recorder.messages)

    try:
        assert process.stdout is not None
        started_line = process.stdout.readline()
        started_at = time.monotonic()
        outputs_before = outputs()
        done_line = process.stdout.readline()
        streamed = time.monotonic() - started_at
        match = re.search(r"(\d+) messages published", done_line)
        assert match is not None, done_line
        published = int(match.group(1))
        recorder.wait_for(lambda: outputs() == published, 5, f"{published} outputs")
        states_then = states()
        time.sleep(1.5)  # outputs have stopped; state reports go on
        outputs_later, states_later = outputs(), states()
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    finally:
        process.kill()
    assert started_line == "stream started\n"
    assert outputs_before == 0
    assert done_line.startswith("stream done: makerhub-sim: 2 units (2 adopted)")
    assert 0.8 < streamed < 2.0
    assert 20 <= published <= 60  # 2 units x 20/s for 1 s
    assert outputs_later == published
    assert states_later > states_then
    records = [json.loads(line) for line in values_log.read_text().splitlines()]
    assert records
    assert all(set(r["outputs"]) <= {"temperature", "humidity"} for r in records)
