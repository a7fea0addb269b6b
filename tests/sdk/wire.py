"""What the SDK tests use to watch the wire and to play the hub, with real paho clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
import json
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from custom_components.makerhub.core.protocol import (
    UnitTopics,
    build_schema_json,
    new_unit_id,
    parse_announce_topic,
    parse_announcement,
)
from custom_components.makerhub.core.schema import UnitSchema, parse_makerhub_json


@dataclass(frozen=True)
class Seen:
    """One message as a subscriber received it."""

    topic: str
    payload: bytes
    retain: bool
    qos: int
    at: float
    dup: bool = False

    @property
    def text(self) -> str:
        """Return the payload as text."""
        return self.payload.decode()


def _client(client_id: str, clean_session: bool = True) -> mqtt.Client:
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean_session
    )
    client.reconnect_delay_set(1, 2)
    return client


class Recorder:
    """A subscriber that keeps every message it sees; ``wait_for`` polls its list."""

    def __init__(
        self,
        host: str,
        port: int,
        topics: list[str],
        client_id: str = "recorder",
        clean_session: bool = True,
    ) -> None:
        """Connect and subscribe (QoS 1); returns once the subscription is acknowledged.

        With ``clean_session=False`` the broker keeps the subscription and queues QoS 1
        messages while the recorder is away (a broker restart, with persistence).
        """
        self.messages: list[Seen] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = _client(client_id, clean_session)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.on_connect = lambda client, *args: client.subscribe([(t, 1) for t in topics])
        self.client.connect(host, port)
        self.client.loop_start()
        if not self._subscribed.wait(5):
            raise TimeoutError("recorder did not subscribe")

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        seen = Seen(
            message.topic,
            message.payload,
            message.retain,
            message.qos,
            time.monotonic(),
            bool(message.dup),
        )
        with self._lock:
            self.messages.append(seen)

    def on(self, topic: str) -> list[Seen]:
        """Return the messages seen on ``topic`` so far."""
        with self._lock:
            return [m for m in self.messages if m.topic == topic]

    def texts(self, topic: str) -> list[str]:
        """Return the payloads seen on ``topic`` as text."""
        return [m.text for m in self.on(topic)]

    def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition"
    ) -> Any:
        """Poll ``predicate`` until it returns something truthy; return it."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.02)

    def wait_texts(self, topic: str, count: int = 1, timeout: float = 5.0) -> list[str]:
        """Wait until ``count`` messages arrived on ``topic``; return their payloads."""
        self.wait_for(lambda: len(self.on(topic)) >= count, timeout, f"{count} on {topic}")
        return self.texts(topic)

    def publish(self, topic: str, payload: str | bytes, qos: int = 1, retain: bool = False) -> None:
        """Publish and wait until the broker has it."""
        self.client.publish(topic, payload, qos, retain).wait_for_publish(5)

    def close(self) -> None:
        """Disconnect and end paho's thread."""
        self.client.disconnect()
        self.client.loop_stop()


class FakeHub:
    """Plays the hub's side of the announce/adoption handshake (docs/protocol.md).

    Adopts every announcement without ``unit`` (when ``auto_adopt``) by publishing a
    ``schema.json`` built by the hub's own core, and clears ``…/adopted`` once the unit
    re-announces with the right ``unit``.
    """

    def __init__(
        self, host: str, port: int, prefix: str = "makerhub", auto_adopt: bool = True
    ) -> None:
        """Connect and watch ``P/announce/+``."""
        self.prefix = prefix
        self.auto_adopt = auto_adopt
        self.uids: dict[str, str] = {}
        self.adoptions: dict[str, int] = {}
        self.confirmed: set[str] = set()
        self.links: dict[str, dict[str, list[str]]] = {}
        self._lock = threading.Lock()
        self.recorder = Recorder(host, port, [f"{prefix}/announce/+"], client_id="fake-hub")
        self.recorder.client.on_message = self._on_message

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if not message.payload:
            return
        announce_id = parse_announce_topic(self.prefix, message.topic)
        announcement = parse_announcement(announce_id, message.payload)
        with self._lock:
            known = self.uids.get(announce_id)
            if announcement.uid is not None and announcement.uid == known:
                if announce_id not in self.confirmed:
                    self.confirmed.add(announce_id)
                    client.publish(f"{message.topic}/adopted", b"", 1, retain=True)
                return
            if not self.auto_adopt:
                return
            uid = known or new_unit_id()
            self.uids[announce_id] = uid
            self.adoptions[announce_id] = self.adoptions.get(announce_id, 0) + 1
            schema_json = self.schema_json(announce_id, announcement.schema)
        payload = json.dumps(schema_json)
        client.publish(UnitTopics(self.prefix, uid).sys("schema"), payload, 1, retain=True)
        client.publish(f"{message.topic}/adopted", payload, 1, retain=True)

    def schema_json(
        self, announce_id: str, schema: UnitSchema | Mapping[str, Any]
    ) -> dict[str, Any]:
        """Return the ``schema.json`` the hub would generate for a unit now."""
        if not isinstance(schema, UnitSchema):
            schema = parse_makerhub_json(schema)
        uid = self.uids[announce_id]
        return build_schema_json(UnitTopics(self.prefix, uid), schema, self.links.get(announce_id))

    def wait_adopted(self, count: int, timeout: float = 10.0) -> None:
        """Wait until ``count`` units re-announced themselves with their uid."""
        self.recorder.wait_for(lambda: len(self.confirmed) >= count, timeout, f"{count} adopted")

    def close(self) -> None:
        """Disconnect."""
        self.recorder.close()


@contextmanager
def recording(host: str, port: int, topics: list[str]) -> Iterator[Recorder]:
    """Record ``topics`` for the duration of a ``with`` block."""
    recorder = Recorder(host, port, topics)
    try:
        yield recorder
    finally:
        recorder.close()
