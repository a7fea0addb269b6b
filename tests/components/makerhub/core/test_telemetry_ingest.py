"""The telemetry's own persistent MQTT session, against a real Mosquitto and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import paho.mqtt.client as mqtt
import pytest

from custom_components.makerhub.core.telemetry import Dsn, TelemetryStore, TelemetryWriter
from custom_components.makerhub.core.telemetry.ingest import IngestSettings, TelemetryIngest
from dev.processes.mosquitto import MosquittoBroker
from dev.processes.ports import free_port

from .telemetry_helpers import FAST, unit_client, wait_for

TOPIC = "mh/+/out/+"


@pytest.fixture
def broker(socket_enabled: None, mosquitto: MosquittoBroker) -> MosquittoBroker:
    """A broker of this test's own, persisting sessions."""
    return mosquitto


@pytest.fixture
def publisher(broker: MosquittoBroker) -> Iterator[mqtt.Client]:
    """A unit publishing QoS 1 values."""
    with unit_client(broker, "unit-1") as client:
        yield client


def publish(client: mqtt.Client, values: range) -> None:
    """Publish ``values`` as the counter's output and wait for the broker's PUBACKs."""
    infos = [client.publish("mh/unit1/out/count", str(value), qos=1) for value in values]
    for info in infos:
        info.wait_for_publish(10)


def make_ingest(broker: MosquittoBroker, writer: TelemetryWriter) -> TelemetryIngest:
    """Return an ingest session of the hub ``hub-1`` submitting ``P/<uid>/out/<name>``."""

    def handle(topic: str, payload: bytes) -> None:
        _prefix, uid, _out, name = topic.split("/")
        if name != "ignored":
            writer.submit(uid, name, float(payload))

    settings = IngestSettings(
        host=broker.host, port=broker.port, client_id="makerhub-telemetry-hub-1", topics=(TOPIC,)
    )
    return TelemetryIngest(settings, writer, handle)


async def counted(conn: asyncpg.Connection) -> list[float]:
    """Return the stored counter values in order."""
    rows = await conn.fetch("SELECT value FROM samples WHERE variable = 'count' ORDER BY value")
    return [row["value"] for row in rows]


@pytest.fixture
async def ingest(
    broker: MosquittoBroker, telemetry_store: TelemetryStore
) -> AsyncIterator[TelemetryIngest]:
    """A started ingest feeding the test's store."""
    session = make_ingest(broker, telemetry_store.writer)
    await session.start()
    await wait_for(session.connected.is_set, within=30)
    try:
        yield session
    finally:
        await session.stop()


async def test_values_are_stored_and_acknowledged_once_committed(
    ingest: TelemetryIngest,
    telemetry_store: TelemetryStore,
    publisher: mqtt.Client,
    pg_conn: asyncpg.Connection,
) -> None:
    """Live values reach the database; every one is acknowledged after its commit."""
    publish(publisher, range(100))
    publisher.publish("mh/unit1/out/ignored", "1", qos=1).wait_for_publish(10)
    await wait_for(lambda: ingest.acked == 101, within=30)
    assert await counted(pg_conn) == [float(value) for value in range(100)]
    assert telemetry_store.writer.durable == telemetry_store.writer.accepted == 100
    assert ingest.redelivered == 0
    assert "password" not in repr(ingest.settings)


async def test_the_broker_queues_values_while_the_hub_is_away(
    broker: MosquittoBroker,
    telemetry_store: TelemetryStore,
    publisher: mqtt.Client,
    pg_conn: asyncpg.Connection,
) -> None:
    """Values sent between two sessions (and across a broker restart) are all stored."""
    first = make_ingest(broker, telemetry_store.writer)
    await first.start()
    await wait_for(first.connected.is_set, within=30)
    publish(publisher, range(10))
    await wait_for(lambda: first.acked == 10, within=30)
    await first.stop()

    publish(publisher, range(10, 300))  # the hub is away: the broker queues them
    broker.stop()
    broker.start()  # the session and its queue survive in the broker's persistence
    publisher.reconnect()
    second = make_ingest(broker, telemetry_store.writer)
    await second.start()
    try:
        await wait_for(lambda: second.acked == 290, within=30)
        assert await counted(pg_conn) == [float(value) for value in range(300)]
    finally:
        await second.stop()


async def test_the_ingest_reconnects_after_the_broker_restarts(
    broker: MosquittoBroker,
    ingest: TelemetryIngest,
    publisher: mqtt.Client,
    pg_conn: asyncpg.Connection,
) -> None:
    """A broker killed and started again: the session reconnects and takes new values."""
    broker.kill()
    await wait_for(lambda: not ingest.connected.is_set(), within=30)
    broker.start()
    await wait_for(ingest.connected.is_set, within=30)
    publisher.reconnect()
    publish(publisher, range(5))
    await wait_for(lambda: ingest.acked == 5, within=30)
    assert await counted(pg_conn) == [0.0, 1.0, 2.0, 3.0, 4.0]


async def test_no_ack_before_durable_so_a_lost_hub_loses_nothing(
    broker: MosquittoBroker,
    publisher: mqtt.Client,
    telemetry_store: TelemetryStore,
    pg_conn: asyncpg.Connection,
    tmp_path: Path,
) -> None:
    """A hub whose rows never became durable acknowledged nothing: the broker resends all.

    The first hub's database cannot be reached and it stops without writing (its rows
    exist only in memory, as at a kill); the next session gets every value again.
    """
    dead = Dsn(f"postgresql://nobody@127.0.0.1:{free_port()}/none")
    writer = TelemetryWriter(dead, tmp_path / "lost.spill", settings=replace(FAST, fsync=False))
    await writer.start()
    first = make_ingest(broker, writer)
    await first.start()
    await wait_for(first.connected.is_set, within=30)
    publish(publisher, range(50))
    await wait_for(lambda: first.received == 50, within=30)
    assert first.acked == 0
    assert writer.accepted == 50
    assert writer.durable == 0
    first.pause()
    await first.stop()  # gone without acknowledging, as a killed process would be

    second = make_ingest(broker, telemetry_store.writer)
    await second.start()
    try:
        await wait_for(lambda: second.acked == 50, within=30)
        assert await counted(pg_conn) == [float(value) for value in range(50)]
        assert second.redelivered == 50  # the broker had sent them once
    finally:
        await second.stop()
        await writer.stop(grace=0.1)


async def test_rows_spilled_to_disk_count_as_durable(tmp_path: Path) -> None:
    """With the database away, rows are durable once fsynced to the spill file."""
    dead = Dsn(f"postgresql://nobody@127.0.0.1:{free_port()}/none")
    writer = TelemetryWriter(dead, tmp_path / "spill", settings=replace(FAST, buffer_limit=10))
    durable: list[int] = []
    writer.on_durable = durable.append
    await writer.start()
    try:
        for value in range(11):
            writer.submit("unit1", "count", float(value))
        await wait_for(lambda: writer.durable == 6, within=30)  # the oldest down to half the limit
        assert durable == [6]
        assert writer.accepted == 11
    finally:
        await writer.stop(grace=0.1)
    assert writer.durable == 11  # the rest spilled at stop


async def test_acks_of_an_old_connection_are_not_sent_on_the_new_one(
    broker: MosquittoBroker, publisher: mqtt.Client, tmp_path: Path
) -> None:
    """Rows durable only after a reconnect: the old connection's message ids are skipped
    (the broker sent those messages again, and those are acknowledged)."""
    dead = Dsn(f"postgresql://nobody@127.0.0.1:{free_port()}/none")
    writer = TelemetryWriter(dead, tmp_path / "spill", settings=replace(FAST, fsync=False))
    await writer.start()
    ingest = make_ingest(broker, writer)
    await ingest.start()
    try:
        await wait_for(ingest.connected.is_set, within=30)
        publish(publisher, range(5))
        publisher.publish("mh/unit1/out/count", "5", qos=0).wait_for_publish(10)
        await wait_for(lambda: ingest.received == 6, within=30)
        broker.stop()  # the session and its five unacknowledged messages are saved
        await wait_for(lambda: not ingest.connected.is_set(), within=30)
        broker.start()
        await wait_for(lambda: ingest.received == 11, within=30)
        assert ingest.redelivered == 5
        assert ingest.acked == 0
        ingest.pause()
        publisher.reconnect()
        publish(publisher, range(6, 8))  # taken no more: left for the next session
    finally:
        await writer.stop(grace=0.1)  # spilled: durable, acknowledged on the new connection
        await ingest.stop()
    assert writer.accepted == 11
    assert ingest.received == 11
    assert ingest.acked == 5


async def test_a_refused_connection_is_logged(
    socket_enabled: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A broker refusing the session's credentials: a warning, no subscription."""
    server = MosquittoBroker(tmp_path / "strict", allow_anonymous=False)
    server.start()
    dead = Dsn(f"postgresql://nobody@127.0.0.1:{free_port()}/none")
    writer = TelemetryWriter(dead, tmp_path / "spill")
    ingest = make_ingest(server, writer)
    try:
        await ingest.start()
        await wait_for(lambda: "refused the connection" in caplog.text, within=30)
        assert not ingest.connected.is_set()
    finally:
        await ingest.stop()
        server.stop()
