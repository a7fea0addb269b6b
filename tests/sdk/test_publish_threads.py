"""Publishing from the program's own threads: straight from the caller while the network
thread is idle, through it while it is busy; in order per thread either way."""

from __future__ import annotations

from collections.abc import Callable, Iterator
import logging
from pathlib import Path
import threading

import pytest

from dev.processes.mosquitto import MosquittoBroker
from makerhub_unit import Unit, Value
from makerhub_unit.gate import SessionGate

from .conftest import UID
from .wire import Recorder

COUNTER = f"makerhub/{UID}/out/counter"
NOTE = f"makerhub/{UID}/out/note"
TEMPERATURE = f"makerhub/{UID}/out/temperature"
STATUS = f"makerhub/{UID}/sys/status"
LEVEL_IN = f"makerhub/{UID}/in/level"
THREADS = 4
PER_THREAD = 250


class CountingGate:
    """Counts which way the unit's calls went: straight from the caller, or queued."""

    def __init__(self, gate: SessionGate) -> None:
        self.direct = 0
        self.queued = 0
        self._lock = threading.Lock()
        enter, defer = gate.enter, gate.defer

        def counted_enter() -> bool:
            entered = enter()
            with self._lock:
                self.direct += entered
            return entered

        def counted_defer(function: Callable[..., object], *args: object) -> None:
            with self._lock:
                self.queued += 1
            defer(function, *args)

        gate.enter = counted_enter  # type: ignore[method-assign]
        gate.defer = counted_defer  # type: ignore[method-assign]


def run_threads(target: Callable[[int], None], count: int = THREADS) -> None:
    threads = [threading.Thread(target=target, args=(k,)) for k in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
        assert not thread.is_alive()


def per_thread(texts: list[str]) -> dict[int, list[int]]:
    """Split ``k:i`` / ``k*100000+i`` payloads into each thread's sequence."""
    seqs: dict[int, list[int]] = {}
    for text in texts:
        if ":" in text:
            k, i = map(int, text.split(":"))
        else:
            k, i = divmod(int(text), 100000)
        seqs.setdefault(k, []).append(i)
    return seqs


def test_outputs_from_many_threads_arrive_in_order_per_thread(
    unit_files: dict[str, Path],
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """QoS 0 and QoS 1 outputs from four threads while inputs keep the network thread busy
    (and its callback publishes too): every value arrives, each thread's in order."""
    monkeypatch.setenv("PYTHONASYNCIODEBUG", "1")  # loop calls from a wrong thread raise
    unit = Unit.from_files(
        unit_files["env"], unit_files["schema"], unit_files["makerhub"], output_qos={"counter": 1}
    )
    gate = CountingGate(unit._gate)
    relayed: list[Value] = []

    def on_level(value: Value) -> None:
        relayed.append(value)
        unit.publish("temperature", float(value) % 80)  # from the network thread itself

    unit.on_input("level", on_level)
    assert unit.start(timeout=5)
    feeding = threading.Event()

    def feed() -> None:
        n = 0
        while not feeding.is_set():
            recorder.client.publish(LEVEL_IN, str(n % 100), 0)
            n += 1
            feeding.wait(0.0005)

    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        recorder.wait_for(lambda: len(relayed) > 10, what="inputs arriving")

        def publish(k: int) -> None:
            for i in range(PER_THREAD):
                if k % 2:
                    unit.publish("counter", k * 100000 + i)  # QoS 1
                else:
                    unit.publish("note", f"{k}:{i}")  # QoS 0

        run_threads(publish)
    finally:
        feeding.set()
        feeder.join()
    try:
        total = THREADS * PER_THREAD
        recorder.wait_for(
            lambda: len(recorder.on(COUNTER)) + len(recorder.on(NOTE)) >= total, 10, "all values"
        )
        seqs = per_thread(recorder.texts(COUNTER) + recorder.texts(NOTE))
        assert seqs == {k: list(range(PER_THREAD)) for k in range(THREADS)}
        recorder.wait_for(lambda: len(recorder.on(TEMPERATURE)) >= len(relayed), 5, "relayed")
        recorder.wait_for(lambda: unit.stats.published == total + len(relayed), what="counted")
        # Each went one way or the other (how many each way depends on the machine's load).
        assert gate.direct + gate.queued == total
    finally:
        unit.stop()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.fixture
def durable(
    broker: MosquittoBroker, unit_files: dict[str, Path]
) -> Iterator[tuple[Unit, Recorder]]:
    """A started unit sending QoS 1 outputs, and a recorder of its counter that keeps its
    session (so nothing sent while it reconnects is missed); both stopped afterwards."""
    unit = Unit.from_files(
        unit_files["env"], unit_files["schema"], unit_files["makerhub"], default_qos=1
    )
    recorder = Recorder(
        broker.host, broker.port, [COUNTER], client_id="durable", clean_session=False
    )
    unit.start(timeout=5)
    try:
        yield unit, recorder
    finally:
        unit.stop()
        recorder.close()


def broker_down(broker: MosquittoBroker, unit: Unit, recorder: Recorder) -> None:
    """Stop the broker and wait until the unit knows it is offline."""
    broker.stop()
    recorder.wait_for(lambda: not unit.connected, 5, "the unit to notice the outage")


def test_qos1_outputs_from_threads_queue_while_offline_and_flush_in_order(
    broker: MosquittoBroker, durable: tuple[Unit, Recorder]
) -> None:
    unit, recorder = durable
    broker_down(broker, unit, recorder)

    def publish(k: int) -> None:
        for i in range(50):
            unit.publish("counter", k * 100000 + i)

    run_threads(publish)
    assert unit.queued == THREADS * 50
    assert unit.stats.published == 0
    broker.start()
    assert unit.wait_connected(10)
    recorder.wait_for(lambda: len(recorder.on(COUNTER)) >= THREADS * 50, 10, "the queue")
    assert per_thread(recorder.texts(COUNTER)) == {k: list(range(50)) for k in range(THREADS)}
    assert unit.queued == 0


def test_a_thread_publishing_through_a_broker_restart_keeps_its_order(
    broker: MosquittoBroker, durable: tuple[Unit, Recorder]
) -> None:
    """QoS 1 values from a thread that keeps publishing while the broker restarts: sent
    straight, queued, flushed on reconnect; none lost (paho resends what it had in
    flight), none overtaking another (not even one published as the unit reconnects)."""
    unit, recorder = durable
    stop = threading.Event()
    sent: list[int] = []
    queued_at_most = 0

    def publish() -> None:
        nonlocal queued_at_most
        while not stop.is_set():
            unit.publish("counter", len(sent))
            sent.append(len(sent))
            queued_at_most = max(queued_at_most, unit.queued)
            stop.wait(0.002)

    publisher = threading.Thread(target=publish)
    publisher.start()
    try:
        recorder.wait_for(lambda: len(sent) > 100, what="values going out")
        broker_down(broker, unit, recorder)
        recorder.wait_for(lambda: unit.queued > 50, what="values queued")
        broker.start()
        assert unit.wait_connected(10)
        recorder.wait_for(lambda: len(sent) > 200 + queued_at_most, what="values after")
    finally:
        stop.set()
        publisher.join()
    received = lambda: [int(t) for t in dict.fromkeys(recorder.texts(COUNTER))]  # noqa: E731
    recorder.wait_for(lambda: len(received()) >= len(sent), 10, "every value")
    assert received() == sent


def test_an_output_published_as_the_unit_reconnects_waits_for_the_queued_ones(
    broker: MosquittoBroker, durable: tuple[Unit, Recorder]
) -> None:
    """Between the broker's CONNACK and the unit going online (which flushes the queue)
    the network thread may wait in select(); a value published then must not overtake
    the queued ones."""
    unit, recorder = durable
    broker_down(broker, unit, recorder)
    unit.publish("counter", 1)
    unit.publish("counter", 2)
    link = unit._session.link
    assert link is not None
    announce_up = link._announce_up
    accepted = threading.Event()

    def slow_announce_up(client: object) -> None:  # widen the window to 0.3 s
        accepted.set()
        link.loop.call_later(0.3, announce_up, client)

    link._announce_up = slow_announce_up  # type: ignore[method-assign]
    broker.start()
    assert accepted.wait(10)
    unit.publish("counter", 3)  # the network thread waits in select(): the gate is free
    assert unit.wait_connected(5)
    assert recorder.wait_texts(COUNTER, 3) == ["1", "2", "3"]


def test_connection_lost_under_a_callers_publish(
    unit_files: dict[str, Path],
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """paho's send fails on the caller's thread: the unit notes the loss at once, its
    network thread tidies up and reconnects, and the QoS 1 values still arrive."""
    monkeypatch.setenv("PYTHONASYNCIODEBUG", "1")  # loop calls from a wrong thread raise
    unit = Unit.from_files(
        unit_files["env"], unit_files["schema"], unit_files["makerhub"], output_qos={"counter": 1}
    )
    assert unit.start(timeout=5)
    try:
        recorder.wait_texts(STATUS, 1)
        session = unit._session
        link = session.link
        assert link is not None
        old_watch = link._watch
        assert old_watch is not None
        # Take the gate as a publishing thread does (the network thread now waits in
        # select() or for the gate), cut the connection under it, and publish.
        recorder.wait_for(unit._gate.enter, what="an idle network thread")
        try:
            link.abort()  # shut down: paho's next send fails with EPIPE, on this thread
            session.publish("counter", 1)  # what Unit.publish does with the gate taken
            assert not unit._session.ready  # known at once: the next value is queued
            session.publish("counter", 2)
            assert unit.queued == 1
        finally:
            unit._gate.leave()
        recorder.wait_for(lambda: "offline" in recorder.texts(STATUS), 5, "the Last Will")
        assert unit.wait_connected(10)
        recorder.wait_for(lambda: recorder.texts(STATUS)[-1] == "online", 5, "online again")
        recorder.wait_for(lambda: "2" in recorder.texts(COUNTER), 5, "the queued value")
        assert list(dict.fromkeys(recorder.texts(COUNTER))) == ["1", "2"]  # "1" resent by paho
        assert old_watch.fileno() == -1, "the loop let go of the old connection"
        unit.publish("counter", 3)
        recorder.wait_for(lambda: "3" in recorder.texts(COUNTER), 5, "a value after it")
    finally:
        unit.stop()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_callback_may_wait_for_another_threads_publish(
    unit_files: dict[str, Path], recorder: Recorder
) -> None:
    """The network thread holds the gate during callbacks; a publish from another thread
    then queues instead of waiting for it, so the callback cannot deadlock."""
    unit = Unit.from_files(unit_files["env"], unit_files["schema"], unit_files["makerhub"])
    gate = CountingGate(unit._gate)
    joined: list[bool] = []

    def on_level(value: Value) -> None:
        worker = threading.Thread(target=unit.publish, args=("counter", value))
        worker.start()
        worker.join(2)
        joined.append(not worker.is_alive())

    unit.on_input("level", on_level)
    assert unit.start(timeout=5)
    try:
        recorder.publish(LEVEL_IN, "42")
        assert recorder.wait_texts(COUNTER) == ["42"]
        assert joined == [True]
        assert (gate.direct, gate.queued) == (0, 1)
    finally:
        unit.stop()


def test_outputs_before_start_and_after_stop(
    unit_files: dict[str, Path], recorder: Recorder
) -> None:
    """Without a running network thread the caller's thread does the work: queued before
    the start (QoS 1) and flushed once online; queued or dropped after the stop."""
    unit = Unit.from_files(
        unit_files["env"], unit_files["schema"], unit_files["makerhub"], default_qos=1
    )
    gate = CountingGate(unit._gate)
    unit.publish("counter", 1)
    assert unit.queued == 1
    assert gate.direct == 1
    assert unit.start(timeout=5)
    try:
        assert recorder.wait_texts(COUNTER) == ["1"]
        sent = 1

        def publish_straight() -> bool:  # once the network thread is idle, it takes no part
            nonlocal sent
            before = gate.direct
            sent += 1
            unit.publish("counter", sent)
            return gate.direct > before

        recorder.wait_for(publish_straight, what="a publish straight from this thread")
        assert recorder.wait_texts(COUNTER, sent) == [str(n) for n in range(1, sent + 1)]
    finally:
        unit.stop()
    unit.publish("counter", 0)
    unit.log("info", "after the stop")
    assert unit.queued == 1
    assert unit.stats.logs_dropped == 1
    with pytest.raises(ValueError, match="event must be one of"):
        unit.send_event("dance")  # refused on the caller's thread, as an unfit output is


def test_the_gate_without_a_network_thread() -> None:
    """Before the start and after the stop callers take turns; a call queued by the thread
    that holds the gate (a signal handler) runs when it lets go, instead of deadlocking."""
    gate = SessionGate()
    calls: list[int] = []
    assert gate.enter()
    gate.defer(calls.append, 1)
    assert calls == []
    gate.leave()
    assert calls == [1]
    gate.defer(calls.append, 2)
    assert calls == [1, 2]
    gate.wanted = True  # the network thread waits for the gate: callers stand back
    assert not gate.enter()
    gate.wanted = False
    assert gate.enter()
    other = threading.Thread(target=gate.defer, args=(calls.append, 3))
    other.start()
    other.join(0.2)
    assert other.is_alive()  # waits for this thread, which only holds the gate briefly
    gate.leave()
    other.join(5)
    assert calls == [1, 2, 3]
