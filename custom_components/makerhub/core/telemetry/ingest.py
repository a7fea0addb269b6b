"""Telemetry's own broker session: values queue at the broker while Home Assistant is away.

Home Assistant's MQTT session is clean, so the broker keeps nothing for it while it
restarts. :class:`TelemetryIngest` is a second client with a fixed client id and a
persistent MQTT 5 session (``clean_start`` False, a long session expiry), subscribed with
QoS 1 to the units' output topics: while it is disconnected the broker queues every
output value for it, and delivers them when it connects again.

A message is acknowledged only once its row is durable (committed, fsynced to the spill
file, or dropped and counted: see :attr:`.writer.TelemetryWriter.durable`), so a kill
never loses a value the broker took: the broker sends the unacknowledged ones again.
That is also the one way a value is stored twice: a kill after its row was committed and
before its ``PUBACK`` left. The unit protocol gives an output value no identity (no
sequence number, no time), so such a redelivery cannot be told from a new equal value.

paho-mqtt runs its network loop in its own thread; every message goes to the event loop,
where ``handle`` decodes and submits it and the acknowledgement waits for the writer.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
import logging
import threading
from typing import Any, Final

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from .writer import TelemetryWriter

_LOGGER = logging.getLogger(__name__)

SESSION_EXPIRY: Final = 7 * 24 * 3600
"""Seconds the broker keeps the session (and queues values) while the hub is away."""
RECEIVE_MAXIMUM: Final = 65535
"""Unacknowledged messages the broker may send at once: acks wait for a commit (about a
second), so the broker's default window of 20 would cap ingest at some 20 values/s."""
DISCONNECT_TIMEOUT: Final = 5.0
BARRIER_TOPIC: Final = "$makerhub/telemetry/barrier"
"""Never subscribed: unsubscribing from it is a round trip to the broker."""


@dataclass(frozen=True, slots=True)
class IngestSettings:
    """Where and as whom the ingest client connects."""

    host: str
    port: int
    client_id: str
    topics: tuple[str, ...]
    username: str | None = None
    password: str | None = None
    keepalive: int = 30
    reconnect_min: float = 0.5
    reconnect_max: float = 10.0

    def __repr__(self) -> str:
        """Never show the password."""
        return (
            f"IngestSettings(host={self.host!r}, port={self.port}, "
            f"client_id={self.client_id!r}, username={self.username!r})"
        )


Handler = Callable[[str, bytes], None]
"""Decode a message (topic, payload) and submit it to the writer, on the event loop."""


class TelemetryIngest:
    """A persistent MQTT session feeding the writer, acknowledging what is durable."""

    def __init__(self, settings: IngestSettings, writer: TelemetryWriter, handle: Handler) -> None:
        """Prepare; nothing connects before :meth:`start`."""
        self.settings = settings
        self._writer = writer
        self._handle = handle
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: deque[tuple[int, int, int]] = deque()
        """(row ordinal, mid, connection) of messages waiting for their row to be durable."""
        self._connection = 0
        """Counts connections: a mid is only meaningful on the connection it came on."""
        self._lock = threading.Lock()
        self._paused = False
        self._closed = threading.Event()
        self._barrier = threading.Event()
        self._barrier_mid: int | None = None
        self.connected = asyncio.Event()
        """Set while connected and subscribed."""
        self.received = 0
        self.acked = 0
        self.redelivered = 0
        """Messages the broker sent again (DUP flag): candidates for a duplicate row."""
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if settings.username is not None:
            client.username_pw_set(settings.username, settings.password)
        client.reconnect_delay_set(int(settings.reconnect_min) or 1, int(settings.reconnect_max))
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_unsubscribe = self._on_unsubscribe
        client.on_subscribe = self._on_subscribe
        self._client = client

    # -- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Connect in the background (the broker may be down: paho keeps retrying)."""
        self._loop = asyncio.get_running_loop()
        self._writer.on_durable = self._on_durable
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = SESSION_EXPIRY
        properties.ReceiveMaximum = RECEIVE_MAXIMUM
        self._client.connect_async(
            self.settings.host,
            self.settings.port,
            keepalive=self.settings.keepalive,
            clean_start=False,
            properties=properties,
        )
        self._client.loop_start()

    def pause(self) -> None:
        """Take no more messages (the broker sends unacknowledged ones again next time)."""
        self._paused = True

    async def stop(self) -> None:
        """Disconnect, keeping the session: call after the writer stopped (acks sent)."""
        self._paused = True
        self._writer.on_durable = None
        client = self._client
        await asyncio.get_running_loop().run_in_executor(None, self._disconnect, client)

    def _disconnect(self, client: mqtt.Client) -> None:
        """Make sure the broker took every PUBACK, then disconnect.

        The broker reads a connection's packets in order, so its answer to an
        ``UNSUBSCRIBE`` (of a topic never subscribed) means it has read every PUBACK sent
        before. Without it, a broker busy saving its database may still hold them unread
        when the socket closes, and drop them: those values would come again.
        """
        rc, mid = client.unsubscribe(BARRIER_TOPIC)
        if rc == mqtt.MQTT_ERR_SUCCESS and mid is not None:
            self._barrier_mid = mid
            self._barrier.wait(DISCONNECT_TIMEOUT)
        if client.disconnect() == mqtt.MQTT_ERR_SUCCESS:
            self._closed.wait(DISCONNECT_TIMEOUT)
        client.loop_stop()

    def _on_unsubscribe(self, *args: Any) -> None:
        if args[2] == self._barrier_mid:
            self._barrier.set()

    # -- paho's thread ------------------------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            _LOGGER.warning("Telemetry ingest: the broker refused the connection (%s)", reason)
            return
        with self._lock:
            self._connection += 1
        self._closed.clear()
        options = SubscribeOptions(qos=1)
        client.subscribe([(topic, options) for topic in self.settings.topics])
        _LOGGER.info(
            "Telemetry ingest connected (session %s)",
            "resumed" if flags.session_present else "new",
        )

    def _on_subscribe(self, *_args: Any) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self.connected.set)

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        with self._lock:
            self._connection += 1  # the old connection's mids mean nothing any more
        self._closed.set()
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.connected.clear)
        _LOGGER.debug("Telemetry ingest disconnected (%s)", reason)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            connection = self._connection
        assert self._loop is not None
        self._loop.call_soon_threadsafe(
            self._take, msg.topic, msg.payload, msg.mid if msg.qos else 0, msg.dup, connection
        )

    # -- the event loop -----------------------------------------------------------------

    def _take(self, topic: str, payload: bytes, mid: int, dup: bool, connection: int) -> None:
        if self._paused:
            return
        self.received += 1
        self.redelivered += dup
        writer = self._writer
        before = writer.accepted
        self._handle(topic, payload)
        if not mid:
            return
        if writer.accepted == before or writer.durable >= writer.accepted:
            self._ack(mid, connection)  # nothing queued for it (refused, or unknown topic)
        else:
            self._pending.append((writer.accepted, mid, connection))

    def _on_durable(self, durable: int) -> None:
        pending = self._pending
        while pending and pending[0][0] <= durable:
            _ordinal, mid, connection = pending.popleft()
            self._ack(mid, connection)

    def _ack(self, mid: int, connection: int) -> None:
        with self._lock:
            if connection != self._connection:
                return  # the broker sends it again on the new connection
            self._client.ack(mid, 1)
        self.acked += 1
