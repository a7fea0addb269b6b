"""One MQTT connection driven by an asyncio event loop (paho's external-loop API).

paho-mqtt can either run a thread per client (``loop_start``) or let the application
watch its socket (``loop_read``/``loop_write``/``loop_misc``). Units use the second: a
:class:`LinkPool` owns one asyncio loop and any number of links, so a thousand simulated
units cost one thread, and a single unit program costs one thread too.

Writes are made directly by paho when it publishes outside a callback; the link watches
its socket for writability only while paho has bytes it could not send yet (a full socket
buffer, or packets queued from inside a callback). That keeps the common path at one
``send`` per message, with no selector round trip.

A link is driven by its pool's loop thread. On a pool made with ``other_threads=True``
another thread may drive it too, while its owner makes sure the loop thread is not running
(:class:`~makerhub_unit.Unit` lets a caller's thread publish itself while its network
thread waits in ``select()``). paho may then lose the connection on that thread (a failed
``send``): the link notes it at once and leaves the rest (selector, futures, timers, the
handler) to the loop thread. The selector of such a pool watches a duplicate of paho's
socket, so paho closing its own on another thread never leaves a closed descriptor
registered with the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
import logging
import socket
import ssl
import threading
from typing import Any, Final, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from .backoff import Backoff
from .env import BrokerSettings

_LOGGER = logging.getLogger(__name__)
MISC_INTERVAL: Final = 1.0
"""How often paho's housekeeping (keepalive pings, dead-peer detection) runs per link."""
CONNECT_TIMEOUT: Final = 5.0
_Socket = socket.socket  # MqttLink.socket (a property) hides the module in the class body
PRUNE_AT: Final = 64
"""Unacknowledged QoS 1 publishes a link keeps before it drops the acknowledged ones."""


@dataclass(frozen=True, slots=True)
class Will:
    """The message the broker publishes for a client whose connection drops."""

    topic: str
    payload: str
    qos: int = 1
    retain: bool = True


@dataclass(frozen=True, slots=True)
class LinkIdentity:
    """Who a connection is: its client id and its Last Will, if any."""

    client_id: str
    will: Will | None = None


class LinkHandler(Protocol):
    """What a link tells its owner; called on the pool's event loop."""

    def link_up(self) -> None:
        """The broker accepted the connection."""

    def link_down(self) -> None:
        """An accepted connection was lost or closed."""

    def link_message(self, topic: str, payload: bytes) -> None:
        """A message arrived on a subscribed topic."""


class LinkPool:
    """The links one event loop drives; runs their housekeeping once a second."""

    def __init__(self, loop: asyncio.AbstractEventLoop, *, other_threads: bool = False) -> None:
        """Drive links on ``loop`` (a selector loop: links need ``add_reader``).

        Make the pool on the thread that runs ``loop``. With ``other_threads`` its links
        may also be driven from other threads while that thread does not run (one more
        file descriptor per connection: see the module docstring).
        """
        self.loop = loop
        self.thread_id = threading.get_ident()
        """The thread that runs ``loop``."""
        self.other_threads = other_threads
        self._links: set[MqttLink] = set()
        self._misc_handle: asyncio.TimerHandle | None = None

    def add(self, link: MqttLink) -> None:
        """Start driving ``link``."""
        self._links.add(link)
        if self._misc_handle is None:
            self._misc_handle = self.loop.call_later(MISC_INTERVAL, self._misc)

    def discard(self, link: MqttLink) -> None:
        """Stop driving ``link``; the last one stops the housekeeping timer."""
        self._links.discard(link)
        if not self._links and self._misc_handle is not None:
            self._misc_handle.cancel()
            self._misc_handle = None

    def _misc(self) -> None:
        for link in list(self._links):
            link.misc()
        self._misc_handle = self.loop.call_later(MISC_INTERVAL, self._misc)


class MqttLink:
    """A paho client with reconnects (capped, jittered backoff) on a :class:`LinkPool`."""

    def __init__(
        self,
        pool: LinkPool,
        broker: BrokerSettings,
        handler: LinkHandler,
        backoff: Backoff | None = None,
        label: str = "unit",
    ) -> None:
        """Prepare a link; nothing connects before :meth:`open`."""
        self._pool = pool
        self._loop = pool.loop
        self._broker = broker
        self._handler = handler
        self._backoff = backoff or Backoff()
        self.label = label
        self._client: mqtt.Client | None = None
        self._sock: Any = None
        self._watch: _Socket | None = None
        """What the selector watches: ``_sock``, or the loop's duplicate of it."""
        self._writer: _Socket | None = None
        """The watch registered for writability, while paho has unsent bytes."""
        self._closing = True
        self._retry: asyncio.TimerHandle | None = None
        self._closed: asyncio.Future[None] | None = None
        self._inflight: list[mqtt.MQTTMessageInfo] = []
        """QoS 1 publishes handed to paho, acknowledged ones pruned now and then."""
        self._prune_at = PRUNE_AT
        self._acked: asyncio.Future[None] | None = None
        self._failures = 0
        self._accepted = False
        """Whether the broker accepted the current connection (its CONNACK came)."""
        self.connected = False
        """Whether the handler was told the connection is up (and not yet that it is down)."""
        self.connections = 0
        """How many times the broker accepted this link (reconnects included)."""

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """Return the event loop driving this link."""
        return self._loop

    @property
    def broker(self) -> BrokerSettings:
        """Return where the link connects."""
        return self._broker

    @broker.setter
    def broker(self, broker: BrokerSettings) -> None:
        """Connect elsewhere from the next :meth:`open` (only while closed)."""
        if self._client is not None:
            raise RuntimeError("close() the link before changing its broker")
        self._broker = broker

    @property
    def socket(self) -> Any:
        """Return the connected socket, if any."""
        return self._sock

    def open(self, identity: LinkIdentity) -> None:
        """Connect as ``identity`` now, and again whenever the connection drops."""
        if self._client is not None:
            raise RuntimeError("close() the link before opening it again")
        self._closing = False
        self._client = self._new_client(identity)
        self._pool.add(self)
        self._connect()

    async def close(self, grace: float = 2.0) -> None:
        """Disconnect cleanly (no Last Will) and stop reconnecting."""
        self._closing = True
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        client = self._client
        if client is not None and self._accepted and self._unacked():
            await self._wait_acked(grace)
        self._client = None
        self._pool.discard(self)
        if client is None:
            return
        if self._sock is not None:
            self._closed = self._loop.create_future()
            client.disconnect()
            self._sync_writer(client)
            try:
                await asyncio.wait_for(asyncio.shield(self._closed), grace)
            except TimeoutError:
                _LOGGER.warning("%s: the broker did not take the disconnect in time", self.label)
            finally:
                self._drop_socket()  # no-op once paho closed it
        self.connected = self._accepted = False

    async def _wait_acked(self, grace: float) -> None:
        """Wait until the broker acknowledged every QoS 1 publish (at most ``grace`` s).

        Closing a socket with unread bytes (a PUBACK on its way) makes the kernel send a
        reset, and a broker that gets one drops the DISCONNECT still in its buffer: the
        Last Will would fire after a clean stop.
        """
        self._acked = self._loop.create_future()
        try:
            await asyncio.wait_for(asyncio.shield(self._acked), grace)
        except TimeoutError:
            _LOGGER.debug("%s: %d messages unacknowledged at close", self.label, self._unacked())
        finally:
            self._acked = None

    def _unacked(self) -> int:
        """Forget the QoS 1 publishes the broker acknowledged; return how many are left.

        Polled, not reported through paho's ``on_publish``: paho builds a reason code and
        properties for every callback, QoS 0 publishes included, on the sending path.
        """
        self._inflight = [info for info in self._inflight if not _acknowledged(info)]
        return len(self._inflight)

    def abort(self) -> None:
        """Drop the connection without a DISCONNECT, as a crash would (the Will fires)."""
        if self._sock is not None:
            self._sock.shutdown(socket.SHUT_RDWR)

    def publish(self, topic: str, payload: str | bytes, qos: int = 0, retain: bool = False) -> bool:
        """Hand a message to paho; False when there is no connection to send it on."""
        client = self._client
        if client is None:
            return False
        info = client.publish(topic, payload, qos, retain)
        sent = info.rc == mqtt.MQTT_ERR_SUCCESS
        if qos > 0 and sent:
            self._inflight.append(info)
            if len(self._inflight) >= self._prune_at:
                self._prune_at = max(PRUNE_AT, 2 * self._unacked())
        self._sync_writer(client)
        return sent

    def subscribe(self, topics: list[str], qos: int = 1) -> None:
        """Subscribe to ``topics`` (one SUBSCRIBE packet)."""
        client = self._client
        if client is not None and topics:
            client.subscribe([(topic, qos) for topic in topics])
            self._sync_writer(client)

    def unsubscribe(self, topics: list[str]) -> None:
        """Unsubscribe from ``topics``."""
        client = self._client
        if client is not None and topics:
            client.unsubscribe(topics)
            self._sync_writer(client)

    def misc(self) -> None:
        """Run paho's housekeeping: keepalive pings and dead connection detection."""
        client = self._client
        if client is not None and self._sock is not None:
            client.loop_misc()
            self._sync_writer(client)

    # connection management

    def _new_client(self, identity: LinkIdentity) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=identity.client_id,
            clean_session=True,
            protocol=mqtt.MQTTv311,
        )
        client.connect_timeout = CONNECT_TIMEOUT
        if self._broker.username is not None:
            client.username_pw_set(self._broker.username, self._broker.password)
        if self._broker.tls:
            client.tls_set_context(ssl.create_default_context())
        if identity.will is not None:
            will = identity.will
            client.will_set(will.topic, will.payload, will.qos, will.retain)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_socket_open = self._on_socket_open
        client.on_socket_close = self._on_socket_close
        client.connect_async(self._broker.host, self._broker.port, self._broker.keepalive)
        return client

    def _connect(self) -> None:
        self._retry = None
        client = self._client
        if client is None or self._closing:
            return
        try:
            client.reconnect()
        except (OSError, ValueError) as err:
            self._failed(f"cannot reach {self._broker.host}:{self._broker.port}: {err}")
            return
        self._sync_writer(client)

    def _failed(self, why: str) -> None:
        self._failures += 1
        delay = self._backoff.next_delay()
        log = _LOGGER.warning if self._failures == 1 else _LOGGER.debug
        log("%s: %s; retrying in %.1f s", self.label, why, delay)
        self._retry = self._loop.call_later(delay, self._connect)

    # threads

    def _on_loop_thread(self) -> bool:
        return threading.get_ident() == self._pool.thread_id

    def _later(self, callback: Any, *args: Any) -> None:
        """Have the loop thread run ``callback(*args)`` (from another thread)."""
        with contextlib.suppress(RuntimeError):  # the loop has ended: nothing is left to tidy
            self._loop.call_soon_threadsafe(callback, *args)

    # paho callbacks (on the loop's thread, except where a write on another thread fails)

    def _on_socket_open(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        self._sock = sock
        # Small publishes go out at once: with Nagle's algorithm a value sent right after
        # a keepalive exchange waits ~40 ms for a delayed ACK.
        with contextlib.suppress(OSError, AttributeError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        watch = sock
        if self._pool.other_threads:
            watch = socket.fromfd(sock.fileno(), sock.family, sock.type)
        self._watch = watch
        self._loop.add_reader(watch, self._on_readable, client)

    def _on_socket_close(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        watch = None
        if sock is self._sock:
            self._sock, watch, self._watch = None, self._watch, None
        if self._on_loop_thread():
            self._socket_closed(watch)
        else:
            self._later(self._socket_closed, watch)

    def _socket_closed(self, watch: _Socket | None) -> None:
        if watch is not None:
            self._unwatch(watch)
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)

    def _unwatch(self, watch: _Socket) -> None:
        self._loop.remove_reader(watch)
        if self._writer is watch:
            self._loop.remove_writer(watch)
            self._writer = None
        if self._pool.other_threads:
            watch.close()  # the duplicate; paho closes its own socket

    def _on_readable(self, client: mqtt.Client) -> None:
        client.loop_read()
        if self._acked is not None and not self._acked.done() and not self._unacked():
            self._acked.set_result(None)
        self._sync_writer(client)

    def _on_writable(self, client: mqtt.Client) -> None:
        client.loop_write()
        self._sync_writer(client)

    def _sync_writer(self, client: mqtt.Client) -> None:
        """Watch the socket for writability exactly while paho has unsent bytes."""
        watch = self._watch
        want = watch is not None and client.want_write()
        if not self._on_loop_thread():
            if want != (self._writer is not None):
                self._later(self._sync_writer_of, client)
            return
        if want and watch is not None and self._writer is not watch:
            if self._writer is not None:
                self._loop.remove_writer(self._writer)
            self._loop.add_writer(watch, self._on_writable, client)
            self._writer = watch
        elif not want and self._writer is not None:
            self._loop.remove_writer(self._writer)
            self._writer = None

    def _sync_writer_of(self, client: mqtt.Client) -> None:
        if client is self._client:
            self._sync_writer(client)

    def _drop_socket(self) -> None:
        sock, self._sock = self._sock, None
        watch, self._watch = self._watch, None
        if watch is not None:
            self._unwatch(watch)
        if sock is not None:
            sock.close()

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason: Any,
        properties: Any,
    ) -> None:
        if reason.is_failure:
            _LOGGER.warning("%s: the broker refused the connection: %s", self.label, reason)
            return
        self._accepted = True
        self.connections += 1
        self._failures = 0
        self._backoff.reset()
        # After this callback paho re-sends the messages it had in flight; deferring the
        # owner's work (which flushes newer queued messages) keeps them in order. Until then
        # the link does not count as connected: the loop may wait in select() in between,
        # and an output published from another thread must not overtake the queued ones.
        self._loop.call_soon(self._announce_up, client)

    def _announce_up(self, client: mqtt.Client) -> None:
        if self._accepted and client is self._client:
            self.connected = True
            self._handler.link_up()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason: Any,
        properties: Any,
    ) -> None:
        # Outputs are queued or dropped from now on, whichever thread publishes next.
        was_connected, self.connected, self._accepted = self.connected, False, False
        self._inflight.clear()  # paho sends them again on the next connection, if any
        if self._on_loop_thread():
            self._disconnected(client, was_connected, reason)
        else:
            self._later(self._disconnected, client, was_connected, reason)

    def _disconnected(self, client: mqtt.Client, was_connected: bool, reason: Any) -> None:
        if self._acked is not None and not self._acked.done():
            self._acked.set_result(None)
        if was_connected:
            self._handler.link_down()
        if not self._closing and client is self._client and self._retry is None:
            self._failed(f"connection lost ({reason})")

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self._handler.link_message(message.topic, message.payload)


def _acknowledged(info: mqtt.MQTTMessageInfo) -> bool:
    """Return whether the broker acknowledged a QoS 1 publish (or paho gave up on it)."""
    try:
        return info.is_published()
    except (ValueError, RuntimeError):
        return True
