"""Broker outages: reconnect with backoff, QoS 1 outputs queued and flushed in order."""

from __future__ import annotations

from pathlib import Path
import threading
import time

from dev.processes.mosquitto import MosquittoBroker
from makerhub_unit import Unit, Value

from .conftest import UID
from .wire import Recorder

COUNTER = f"makerhub/{UID}/out/counter"
NOTE = f"makerhub/{UID}/out/note"


def persistent_recorder(broker: MosquittoBroker) -> Recorder:
    """A subscriber whose QoS 1 subscription survives the broker restart."""
    return Recorder(
        broker.host, broker.port, [COUNTER, NOTE], client_id="durable", clean_session=False
    )


def unique(recorder: Recorder) -> list[str]:
    """Return the counter values received, without the broker's QoS 1 redeliveries.

    A broker that stops before it has read its subscriber's PUBACKs sends those messages
    again (flagged ``dup``) after the restart: at-least-once, as QoS 1 promises.
    """
    seen: list[str] = []
    for message in recorder.on(COUNTER):
        if message.dup and message.text in seen:
            continue
        seen.append(message.text)
    return seen


def wait_disconnected(unit: Unit, recorder: Recorder) -> None:
    recorder.wait_for(lambda: not unit.connected, 5, "the unit to notice the outage")


def test_qos1_outputs_published_during_an_outage_arrive_in_order(
    broker: MosquittoBroker, unit_files: dict[str, Path]
) -> None:
    unit = Unit.from_files(
        unit_files["env"], unit_files["schema"], unit_files["makerhub"], output_qos={"counter": 1}
    )
    got: list[Value] = []
    unit.on_input("level", got.append)
    recorder = persistent_recorder(broker)
    unit.start(timeout=5)
    try:
        for n in range(1, 6):
            unit.publish("counter", n)
        recorder.wait_texts(COUNTER, 5)
        broker.stop()
        wait_disconnected(unit, recorder)
        for n in range(6, 16):
            unit.publish("counter", n)
        unit.publish("note", "lost")  # QoS 0 while offline: dropped, counted
        recorder.wait_for(lambda: unit.queued == 10, what="ten queued")
        broker.start()
        assert unit.wait_connected(10)
        recorder.wait_for(lambda: unique(recorder) == [str(n) for n in range(1, 16)], 10, "all")
        assert unit.stats.dropped_offline == 1
        assert unit.stats.published == 15
        assert unit.queued == 0
        # Back online: status republished, inputs resubscribed.
        status = Recorder(broker.host, broker.port, [f"makerhub/{UID}/sys/status"], "status")
        try:
            assert status.wait_texts(f"makerhub/{UID}/sys/status") == ["online"]
            status.publish(f"makerhub/{UID}/in/level", "9")
            status.wait_for(lambda: got == [9], what="input after reconnect")
        finally:
            status.close()
    finally:
        unit.stop()
        recorder.close()
    assert NOTE not in {m.topic for m in recorder.messages}


def test_the_offline_queue_is_bounded_and_drops_the_oldest(
    broker: MosquittoBroker, unit_files: dict[str, Path]
) -> None:
    unit = Unit.from_files(unit_files["env"], unit_files["schema"], default_qos=1, queue_limit=5)
    recorder = persistent_recorder(broker)
    unit.start(timeout=5)
    try:
        broker.restart()  # a restart the unit only notices once it is done
        wait_disconnected(unit, recorder)  # sooner or later its socket reports the drop
        broker.stop()
        for n in range(1, 13):
            unit.publish("counter", n)
        recorder.wait_for(lambda: unit.stats.dropped_queue_full == 7, what="seven dropped")
        assert unit.queued == 5
        broker.start()
        assert unit.wait_connected(10)
        recorder.wait_for(lambda: unique(recorder) == ["8", "9", "10", "11", "12"], 10, "five")
        assert unit.stats.dropped == 7
    finally:
        unit.stop()
        recorder.close()


def test_a_unit_started_without_a_broker_keeps_trying_and_stops_cleanly(
    broker: MosquittoBroker, unit_files: dict[str, Path]
) -> None:
    broker.stop()
    before = set(threading.enumerate())
    unit = Unit.from_files(unit_files["env"], unit_files["schema"])
    assert unit.start(timeout=0.5) is False
    unit.publish("counter", 1)  # QoS 0 and offline: dropped, counted
    broker.start()
    assert unit.wait_connected(10), "the backoff retries until the broker is there"
    started = time.monotonic()
    broker.stop()
    unit.stop()
    assert time.monotonic() - started < 5
    assert set(threading.enumerate()) == before
    assert unit.stats.dropped_offline == 1
