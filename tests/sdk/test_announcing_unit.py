"""A self-describing unit: announce, adoption by a stand-in hub, persistence, schema changes."""

from __future__ import annotations

import json
from pathlib import Path
import time
from typing import Any

import pytest

from dev.processes.mosquitto import MosquittoBroker
from makerhub_unit import Unit, Value

from .conftest import MAKERHUB_JSON
from .wire import FakeHub, Recorder

ANNOUNCE_ID = "bench-thermo-1"
ANNOUNCE = f"makerhub/announce/{ANNOUNCE_ID}"
ADOPTED = f"{ANNOUNCE}/adopted"


def announcing(broker: MosquittoBroker, state_dir: Path) -> Unit:
    return Unit.announcing(
        announce_id=ANNOUNCE_ID,
        host=broker.host,
        port=broker.port,
        schema=MAKERHUB_JSON,
        name="Bench thermometer",
        model="makerhub-unit test",
        state_dir=state_dir,
        state_interval=0.5,
        version="1.0.0",
    )


def adopted(unit: Unit, hub: FakeHub) -> str:
    """Wait until the hub adopted the started unit; return its uid."""
    assert unit.wait_ready(10)
    hub.wait_adopted(1)
    assert unit.uid == hub.uids[ANNOUNCE_ID]
    return unit.uid


def announcements(recorder: Recorder) -> list[dict[str, Any]]:
    return [json.loads(m.payload) for m in recorder.on(ANNOUNCE) if m.payload]


def test_handshake_with_the_hub(
    broker: MosquittoBroker, hub: FakeHub, recorder: Recorder, tmp_path: Path
) -> None:
    unit = announcing(broker, tmp_path)
    assert unit.uid is None
    with unit:
        uid = adopted(unit, hub)
        # Both announcements: a list of one is truthy too, and the second may be in flight.
        first, second = recorder.wait_for(
            lambda: announcements(recorder)[1:] and announcements(recorder)[:2], what="two"
        )
        assert "unit" not in first
        assert first["name"] == "Bench thermometer"
        assert first["model"] == "makerhub-unit test"
        assert first["schema"] == MAKERHUB_JSON
        assert second["unit"] == uid
        # The hub handed schema.json over, then cleared it once it saw the uid.
        handover = recorder.wait_for(lambda: recorder.on(ADOPTED)[1:] and recorder.on(ADOPTED))
        assert json.loads(handover[0].payload)["unit"] == uid
        assert handover[1].payload == b""
        stored = json.loads((tmp_path / f"{ANNOUNCE_ID}.schema.json").read_text())
        assert stored == hub.schema_json(ANNOUNCE_ID, MAKERHUB_JSON)
        assert recorder.wait_texts(f"makerhub/{uid}/sys/status") == ["online"]
        recorder.wait_texts(f"makerhub/{uid}/sys/state")
        # Outputs go to the topics the hub assigned; the Last Will is on the new identity.
        unit.publish("temperature", 20.5)
        assert recorder.wait_texts(f"makerhub/{uid}/out/temperature") == ["20.5"]
        unit._session.link.abort()  # type: ignore[union-attr]
        recorder.wait_for(
            lambda: "offline" in recorder.texts(f"makerhub/{uid}/sys/status"), what="last will"
        )
        assert unit.wait_ready(5)
    late = Recorder(broker.host, broker.port, [ANNOUNCE], client_id="late")
    try:
        retained = late.wait_for(lambda: late.on(ANNOUNCE), what="retained announcement")
        assert retained[0].retain
        assert json.loads(retained[0].payload)["unit"] == uid
    finally:
        late.close()


def test_restart_keeps_the_uid_without_a_second_handshake(
    broker: MosquittoBroker, hub: FakeHub, recorder: Recorder, tmp_path: Path
) -> None:
    with announcing(broker, tmp_path) as first:
        uid = adopted(first, hub)
    hub.auto_adopt = False  # a second handover would now go unanswered
    second = announcing(broker, tmp_path)
    assert second.uid == uid  # from the state directory, before connecting
    with second:
        assert second.wait_ready(5)
        recorder.wait_for(
            lambda: recorder.texts(f"makerhub/{uid}/sys/status")[-1:] == ["online"], what="online"
        )
        recorder.wait_for(lambda: len(announcements(recorder)) >= 3, what="re-announcement")
        assert [a.get("unit") for a in announcements(recorder)] == [None, uid, uid]
        assert hub.adoptions == {ANNOUNCE_ID: 1}


def test_schema_update_resubscribes(
    broker: MosquittoBroker, hub: FakeHub, recorder: Recorder, tmp_path: Path
) -> None:
    unit = announcing(broker, tmp_path)
    got: list[Value] = []
    unit.on_input("target", got.append)
    with unit:
        uid = adopted(unit, hub)
        old_link, new_link = "makerhub/aaaaaaaaaaaa/out/t", "makerhub/bbbbbbbbbbbb/out/t"
        path = tmp_path / f"{ANNOUNCE_ID}.schema.json"

        def link(topic: str) -> None:
            hub.links[ANNOUNCE_ID] = {"target": [topic]}
            document = hub.schema_json(ANNOUNCE_ID, MAKERHUB_JSON)
            recorder.publish(f"makerhub/{uid}/sys/schema", json.dumps(document), retain=True)
            recorder.wait_for(lambda: topic in path.read_text(), what="schema.json stored")

        link(old_link)
        recorder.publish(old_link, "11", retain=True)  # retained: no race with SUBSCRIBE
        recorder.wait_for(lambda: 11.0 in got, what="value from the first link")
        link(new_link)
        time.sleep(0.3)  # the UNSUBSCRIBE went out before the file changed; let the broker act
        recorder.publish(old_link, "12")  # no longer linked
        recorder.publish(new_link, "13")
        recorder.publish(f"makerhub/{uid}/in/target", "14")
        recorder.wait_for(lambda: 14.0 in got, what="own input")
        assert got == [11.0, 13.0, 14.0]
        assert unit.uid == uid


def test_empty_schema_means_deleted_so_the_unit_announces_again(
    broker: MosquittoBroker, hub: FakeHub, recorder: Recorder, tmp_path: Path
) -> None:
    with announcing(broker, tmp_path) as unit:
        old_uid = adopted(unit, hub)
        del hub.uids[ANNOUNCE_ID]  # the hub forgets the unit...
        hub.confirmed.clear()
        recorder.publish(f"makerhub/{old_uid}/sys/status", b"", retain=True)  # ...clears it
        recorder.publish(f"makerhub/{old_uid}/sys/schema", b"", retain=True)
        hub.wait_adopted(1)  # announced again without a uid, adopted under a new one
        new_uid = hub.uids[ANNOUNCE_ID]
        assert new_uid != old_uid
        assert unit.wait_ready(5)
        recorder.wait_for(lambda: unit.uid == new_uid, what="new uid")
        # The recorder is another client: the last announcement may reach it a moment later.
        recorder.wait_for(lambda: len(announcements(recorder)) >= 4, what="re-announcement")
        assert [a.get("unit") for a in announcements(recorder)] == [None, old_uid, None, new_uid]
        stored = json.loads((tmp_path / f"{ANNOUNCE_ID}.schema.json").read_text())
        assert stored["unit"] == new_uid
        # It left cleanly: no Last Will revived the deleted unit's status.
        assert recorder.texts(f"makerhub/{old_uid}/sys/status") == ["online", ""]
        unit.publish("counter", 5)
        assert recorder.wait_texts(f"makerhub/{new_uid}/out/counter") == ["5"]


def test_bad_handover_is_ignored(
    broker: MosquittoBroker, recorder: Recorder, tmp_path: Path
) -> None:
    with announcing(broker, tmp_path) as unit:
        recorder.wait_for(lambda: announcements(recorder), what="announcement")
        recorder.publish(ADOPTED, "{not json")
        recorder.publish(ADOPTED, json.dumps({"v": 1, "unit": "x"}))
        unit.publish("counter", 1)  # no uid yet: dropped and counted, not raised
        recorder.wait_for(
            lambda: (unit.stats.invalid_schemas, unit.stats.dropped_unadopted) == (2, 1),
            what="both handovers refused, the output dropped",
        )
        assert unit.uid is None
        assert not (tmp_path / f"{ANNOUNCE_ID}.schema.json").exists()


def test_invalid_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="announce id"):
        Unit.announcing("bad id!", "127.0.0.1", schema=MAKERHUB_JSON, state_dir=tmp_path)
    with pytest.raises(ValueError, match=r"outputs\.x\.type"):
        Unit.announcing("ok", "127.0.0.1", schema={"outputs": {"x": {}}}, state_dir=tmp_path)
    with pytest.raises(ValueError, match="QoS"):
        Unit.announcing("ok", "127.0.0.1", schema=MAKERHUB_JSON, state_dir=tmp_path, default_qos=2)
