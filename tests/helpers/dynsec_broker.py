"""A Mosquitto with the dynamic-security plugin, and MQTT clients that report what happened.

:func:`dynsec_broker` prepares a :class:`MosquittoBroker` whose users and ACLs live in the
plugin's JSON file (created by ``mosquitto_ctrl dynsec init``). :class:`MqttProbe` is a
paho client for tests playing units or the hub: every CONNACK, SUBACK, PUBACK and message
is recorded, and the ``async`` methods wait for them without blocking the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
import shutil
import subprocess
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from dev.processes.mosquitto import MosquittoBroker

DYNSEC_PLUGIN = Path("/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so")
MOSQUITTO_CTRL = shutil.which("mosquitto_ctrl") or "/usr/bin/mosquitto_ctrl"
NOT_AUTHORIZED = 0x87
"""MQTT 5 reason code (SUBACK, PUBACK, CONNACK) for an ACL or authentication refusal."""
V311_SUBACK_FAILURE = 0x80


def dynsec_broker(directory: Path, admin_user: str, admin_password: str) -> MosquittoBroker:
    """Return a (not started) broker with the plugin; ``admin_user`` may use ``$CONTROL``."""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "dynamic-security.json"
    if not config.exists():
        subprocess.run(
            [MOSQUITTO_CTRL, "dynsec", "init", str(config), admin_user, admin_password],
            check=True,
            capture_output=True,
        )
    return MosquittoBroker(
        directory,
        extra_config=[
            f"plugin {DYNSEC_PLUGIN}",
            f"plugin_opt_config_file {config}",
            # Without it the plugin's answer waits for the ACK of the PUBACK sent just
            # before it (Nagle against delayed ACKs): 40 ms per command.
            "set_tcp_nodelay true",
        ],
        allow_anonymous=False,
    )


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, what: str = "") -> None:
    """Poll ``predicate`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.005)


class MqttProbe:
    """A paho client (own thread) that records everything; it never reconnects."""

    def __init__(
        self,
        broker: MosquittoBroker,
        username: str | None,
        password: str | None,
        *,
        client_id: str = "",
        protocol: int = mqtt.MQTTv5,
        will: tuple[str, str] | None = None,
    ) -> None:
        """Prepare the client; :meth:`connect` connects."""
        self.broker = broker
        kwargs: dict[str, Any] = {} if protocol == mqtt.MQTTv5 else {"clean_session": True}
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTProtocolVersion(protocol),
            reconnect_on_failure=False,
            **kwargs,
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        if will is not None:
            self.client.will_set(will[0], will[1], qos=1, retain=True)
        self.connack: int | None = None
        self.disconnects: list[int] = []
        self.subacks: dict[int, list[int]] = {}
        self.pubacks: dict[int, int] = {}
        self.messages: list[tuple[str, str, bool]] = []
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message
        self._started = False

    def _on_connect(self, client: Any, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        self.connack = int(rc.value)

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        self.disconnects.append(int(rc.value))

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, rcs: Any, props: Any) -> None:
        self.subacks[mid] = [int(rc.value) for rc in rcs]

    def _on_publish(self, client: Any, userdata: Any, mid: int, rc: Any, props: Any) -> None:
        self.pubacks[mid] = int(rc.value)

    def _on_message(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.messages.append((message.topic, message.payload.decode(), bool(message.retain)))

    async def connect(self) -> int:
        """Connect; return the CONNACK reason code (0 = accepted)."""
        self.client.connect(self.broker.host, self.broker.port, keepalive=30)
        self.client.loop_start()
        self._started = True
        await wait_until(lambda: self.connack is not None, what="CONNACK")
        assert self.connack is not None
        return self.connack

    async def subscribe(self, topic: str, qos: int = 1) -> int:
        """Subscribe to one filter; return its SUBACK code (the granted QoS, or a failure)."""
        _, mid = self.client.subscribe(topic, qos)
        await wait_until(lambda: mid in self.subacks, what=f"SUBACK for {topic}")
        return self.subacks[mid][0]

    async def publish(self, topic: str, payload: str, *, retain: bool = False) -> int:
        """Publish at QoS 1; return the PUBACK reason code (always 0 under MQTT 3.1.1)."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        await wait_until(lambda: info.mid in self.pubacks, what=f"PUBACK for {topic}")
        return self.pubacks[info.mid]

    def received(self, topic: str) -> list[str]:
        """Return the payloads received on ``topic`` so far."""
        return [payload for got, payload, _ in self.messages if got == topic]

    async def expect(self, topic: str, payload: str, timeout: float = 5.0) -> None:
        """Wait until ``payload`` arrived on ``topic``."""
        await wait_until(
            lambda: payload in self.received(topic), timeout, what=f"{payload!r} on {topic}"
        )

    async def close(self) -> None:
        """Disconnect (no Last Will) and stop paho's thread."""
        if self._started:
            self.client.disconnect()
            await asyncio.get_running_loop().run_in_executor(None, self.client.loop_stop)
            self._started = False
