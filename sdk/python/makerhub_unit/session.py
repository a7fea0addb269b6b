"""One unit's side of protocol v1 over one MQTT link.

The session is the protocol, with no thread and no loop of its own: identity (from a
stored ``schema.json``, or the announce/adoption handshake), availability (Last Will,
``online``/``offline``, periodic state), inputs from every topic ``schema.json`` lists,
outputs with an offline queue, commands, logs and events. :class:`~makerhub_unit.Unit`
runs one session on a thread of its own; the simulator runs a thousand on one loop.
Everything here is called on the loop that drives the session's link.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
import enum
import json
import logging
from pathlib import Path
import random
import time
from typing import Any, Final, Protocol

from .announce import Announcement
from .backoff import Backoff
from .commands import Command, CommandError, parse_command
from .env import BrokerSettings
from .link import LinkIdentity, LinkPool, MqttLink, Will
from .outbox import Outbox, Pending
from .schema_json import SchemaJson, SchemaJsonError, load_schema_file, save_schema_file
from .system import PROBE, socket_ip
from .values import Declaration, InvalidValueError, Value, encode, number_text, parse_number

_LOGGER = logging.getLogger(__name__)

STATUS_ONLINE: Final = "online"
STATUS_OFFLINE: Final = "offline"
LOG_LEVELS: Final = ("debug", "info", "warning", "error", "critical")
MAX_LOG_TEXT: Final = 1024
UNIT_EVENTS: Final = ("update_started", "update_ok", "update_failed", "rolled_back")
DEFAULT_QUEUE_LIMIT: Final = 1000
WARN_EVERY: Final = 60.0
"""Seconds between two warnings of the same kind from one unit (the rest are counted)."""

InputCallback = Callable[[Value], None]
CommandCallback = Callable[[Command], None]


class SessionAgent(Protocol):
    """Work a session hands over (see :class:`~makerhub_unit.ota.UnitAgent`)."""

    def command(self, command: Command) -> bool:
        """Take a command; False leaves it to the ``on_command`` callbacks."""

    def established(self) -> None:
        """The unit went online under its uid and sent its state."""

    async def stop(self) -> None:
        """Cancel running work."""


class SessionEvent(enum.Enum):
    """What a session tells its observer."""

    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    ADOPTED = "adopted"
    DELETED = "deleted"


@dataclass(slots=True)
class UnitStats:
    """Counters a unit keeps about what it sent, dropped and refused."""

    published: int = 0
    """Outputs handed to the broker connection (queued ones count when flushed)."""
    dropped_offline: int = 0
    """QoS 0 outputs published while disconnected."""
    dropped_queue_full: int = 0
    """QoS 1 outputs pushed out of the full offline queue (oldest first)."""
    dropped_unadopted: int = 0
    """Outputs published while the unit had no uid (before adoption, after deletion)."""
    invalid_inputs: int = 0
    invalid_commands: int = 0
    invalid_schemas: int = 0
    logs_dropped: int = 0
    states_sent: int = 0

    @property
    def dropped(self) -> int:
        """Return every output that never reached the broker."""
        return self.dropped_offline + self.dropped_queue_full + self.dropped_unadopted


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """How a session behaves; the defaults suit a real unit."""

    version: str
    state_interval: float = 30.0
    default_qos: int = 0
    output_qos: Mapping[str, int] | None = None
    queue_limit: int = DEFAULT_QUEUE_LIMIT
    state_extras: Callable[[], Mapping[str, Any]] | None = None
    """Extra state fields (a simulator's ``rssi``); merged over the measured ones."""

    def __post_init__(self) -> None:
        """Refuse options that cannot work."""
        if not isinstance(self.version, str) or not 0 < len(self.version) <= 64:
            raise ValueError("version: required, a string of 1 to 64 characters")
        if self.state_interval <= 0:
            raise ValueError("state_interval must be greater than 0")
        for qos in (self.default_qos, *(self.output_qos or {}).values()):
            if qos not in (0, 1):
                raise ValueError(f"output QoS must be 0 or 1, not {qos!r}")


class UnitSession:
    """The protocol state of one unit; see the module docstring."""

    def __init__(
        self,
        broker: BrokerSettings,
        schema_path: Path,
        options: SessionOptions,
        *,
        announcement: Announcement | None = None,
        declaration: Declaration | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """Load the stored ``schema.json``; a unit without ``announcement`` must have one."""
        self._broker = broker
        self.schema_path = schema_path
        self.options = options
        self.announcement = announcement
        self.declaration = declaration
        self._rng = rng or random.Random()  # noqa: S311  (jitter, not secrets)
        self.schema: SchemaJson | None = load_schema_file(schema_path)
        if announcement is not None:
            self.label = announcement.announce_id
        elif self.schema is not None:
            self.label = self.schema.uid
        else:
            raise FileNotFoundError(f"{schema_path}: a unit that does not announce needs it")
        self._routes: dict[str, tuple[str, ...]] = {}
        self._subscribed: set[str] = set()
        self._apply_routes()
        self.stats = UnitStats()
        self.outbox = Outbox(options.queue_limit)
        self.last_values: dict[str, Value] = {}
        """The last value of each output handed to the broker."""
        self.inputs: dict[str, Value] = {}
        """The last valid value received for each input."""
        self._input_callbacks: dict[str, list[InputCallback]] = {}
        self._command_callbacks: list[CommandCallback] = []
        self.observer: Callable[[SessionEvent], None] | None = None
        self.agent: SessionAgent | None = None
        """Takes updates, restarts and refetches (units built from files only)."""
        self.link: MqttLink | None = None
        self._state_timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._switching = False
        self._established = False
        self._started_at = time.monotonic()
        self._warned_at: dict[str, float] = {}

    # public API (on the loop's thread)

    @property
    def uid(self) -> str | None:
        """Return the hub-assigned unit id, None before adoption."""
        return self.schema.uid if self.schema else None

    @property
    def connected(self) -> bool:
        """Return whether the broker connection is up."""
        return self.link is not None and self.link.connected and not self._switching

    @property
    def established(self) -> bool:
        """Return whether the unit has been online under its current uid.

        False while it waits for adoption, switches identity, or has not reached the
        broker since it started; True again through later outages.
        """
        return self._established and not self._switching

    @property
    def ready(self) -> bool:
        """Return whether outputs go out right now: connected under a uid."""
        return self.connected and self.schema is not None

    def on_input(self, name: str, callback: InputCallback) -> None:
        """Call ``callback(value)`` for every valid value of input ``name``."""
        if self.declaration is not None and name not in self.declaration.inputs:
            raise ValueError(f"{name!r} is not a declared input: {sorted(self.declaration.inputs)}")
        self._input_callbacks.setdefault(name, []).append(callback)

    def on_command(self, callback: CommandCallback) -> None:
        """Call ``callback(command)`` for every known command on ``sys/cmd``."""
        self._command_callbacks.append(callback)

    def start(self, pool: LinkPool) -> None:
        """Connect on ``pool``'s loop: as the stored uid, or as an announcer."""
        self._started_at = time.monotonic()
        self.link = MqttLink(pool, self._broker, self, Backoff(rng=self._rng), label=self.label)
        self.link.open(self._identity())

    async def stop(self, grace: float = 2.0) -> None:
        """Publish ``offline`` and disconnect cleanly; nothing keeps running afterwards."""
        self._cancel_state_timer()
        if self.agent is not None:
            await self.agent.stop()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        link = self.link
        if link is None:
            return
        if link.connected and self.schema is not None:
            link.publish(self.schema.sys["status"], STATUS_OFFLINE, 1, retain=True)
        await link.close(grace)

    def publish(self, name: str, value: Value) -> bool:
        """Send output ``name``; queue it (QoS 1) or drop it (QoS 0) while offline.

        Returns whether the value went out or was queued. Raises
        :class:`~makerhub_unit.values.InvalidValueError` for a value that does not fit the
        output and ValueError for an output the unit does not have.
        """
        return self.publish_encoded(name, value, self.encode_output(name, value))

    def publish_encoded(self, name: str, value: Value, text: str) -> bool:
        """Send output ``name`` as :meth:`publish` does, ``text`` being its
        :meth:`encode_output` (checked already, maybe on another thread)."""
        schema = self.schema
        if schema is None or name not in schema.outputs:
            self.stats.dropped_unadopted += 1
            return False
        qos = (self.options.output_qos or {}).get(name, self.options.default_qos)
        return self._send(Pending(name, schema.outputs[name][0], text, qos, value))

    def encode_output(self, name: str, value: Value) -> str:
        """Return an output's wire text; raise for unknown outputs and unfit values."""
        if self.declaration is not None:
            spec = self.declaration.outputs.get(name)
            if spec is None:
                declared = sorted(self.declaration.outputs)
                raise ValueError(f"{name!r} is not a declared output: {declared}")
            return spec.encode(value)
        if self.schema is not None and name not in self.schema.outputs:
            listed = sorted(self.schema.outputs)
            raise ValueError(f"{name!r} is not an output in schema.json: {listed}")
        return encode(value)

    def log(self, level: str, text: str) -> bool:
        """Send a log record on ``sys/log``; dropped (and counted) while offline."""
        if level not in LOG_LEVELS:
            raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
        record = {"level": level, "text": str(text)[:MAX_LOG_TEXT], "ts": round(time.time(), 3)}
        if not self.ready or self.link is None or self.schema is None:
            self.stats.logs_dropped += 1
            return False
        return self.link.publish(self.schema.sys["log"], json.dumps(record), 0)

    def send_event(self, event: str, version: str | None = None, error: str | None = None) -> bool:
        """Send an update event on ``sys/event`` (QoS 1, queued while offline)."""
        if event not in UNIT_EVENTS:
            raise ValueError(f"event must be one of {', '.join(UNIT_EVENTS)}, not {event!r}")
        if self.schema is None or "event" not in self.schema.sys:
            self.stats.dropped_unadopted += 1
            return False
        data = {"event": event, "version": version, "error": error}
        payload = json.dumps({key: value for key, value in data.items() if value is not None})
        return self._send(Pending(None, self.schema.sys["event"], payload, 1))

    # LinkHandler

    def link_up(self) -> None:
        """Announce, or go online under the uid, subscribe and flush the queue."""
        link = self.link
        assert link is not None
        schema, announcement = self.schema, self.announcement
        if schema is None:
            assert announcement is not None
            link.subscribe([announcement.adopted_topic])
            link.publish(announcement.topic, announcement.payload(None), 1, retain=True)
        else:
            link.publish(schema.sys["status"], STATUS_ONLINE, 1, retain=True)
            self._subscribed = schema.subscriptions()
            link.subscribe(sorted(self._subscribed))
            if announcement is not None:
                link.publish(announcement.topic, announcement.payload(schema.uid), 1, retain=True)
            for message in self.outbox.drain():
                link.publish(message.topic, message.payload, message.qos)
                self._count_sent(message)
            self._established = True
            self._send_state()
            self._state_timer = link.loop.call_later(self.options.state_interval, self._state_tick)
            if self.agent is not None:
                try:
                    self.agent.established()
                except Exception:
                    _LOGGER.exception("%s: the update agent failed on connect", self.label)
        self._notify(SessionEvent.CONNECTED)

    def link_down(self) -> None:
        """Stop the state timer; outputs are queued or dropped until the link is back."""
        self._cancel_state_timer()
        self._notify(SessionEvent.DISCONNECTED)

    def link_message(self, topic: str, payload: bytes) -> None:
        """Route one message; bad input is counted and logged, never raised."""
        if self._switching:
            return
        try:
            schema, announcement = self.schema, self.announcement
            if schema is None:
                if announcement is not None and topic == announcement.adopted_topic:
                    self._adopted(payload)
                return
            if topic == schema.sys.get("schema"):
                self._schema_message(schema, payload)
            elif topic == schema.sys["cmd"]:
                self._command(payload)
            for name in self._routes.get(topic, ()):
                self._deliver(name, topic, payload)
        except Exception:
            _LOGGER.exception("%s: failed to handle a message on %s", self.label, topic)

    # outputs and state

    def _send(self, message: Pending) -> bool:
        if self.ready and self.link is not None:
            self.link.publish(message.topic, message.payload, message.qos)
            self._count_sent(message)
            return True
        if message.qos == 0:
            self.stats.dropped_offline += 1
            return False
        before = self.outbox.dropped
        self.outbox.put(message)
        self.stats.dropped_queue_full += self.outbox.dropped - before
        return True

    def _count_sent(self, message: Pending) -> None:
        if message.name is not None and message.value is not None:
            self.stats.published += 1
            self.last_values[message.name] = message.value

    def _state_tick(self) -> None:
        self._state_timer = None
        if self.ready and self.link is not None:
            self._send_state()
            self._state_timer = self.link.loop.call_later(
                self.options.state_interval, self._state_tick
            )

    def _send_state(self) -> None:
        assert self.link is not None
        assert self.schema is not None
        state: dict[str, Any] = {
            "version": self.options.version,
            "uptime_ms": int((time.monotonic() - self._started_at) * 1000),
            **PROBE.figures(),
        }
        if (ip := socket_ip(self.link.socket)) is not None:
            state["ip"] = ip
        if self.options.state_extras is not None:
            state.update(self.options.state_extras())
        self.link.publish(self.schema.sys["state"], json.dumps(state, separators=(",", ":")), 0)
        self.stats.states_sent += 1

    def _cancel_state_timer(self) -> None:
        if self._state_timer is not None:
            self._state_timer.cancel()
            self._state_timer = None

    # inputs, commands, schema

    def _deliver(self, name: str, topic: str, payload: bytes) -> None:
        if not payload:
            return  # a cleared retained value: no desired value, nothing to do
        try:
            value = self._decode_input(name, topic, payload.decode("utf-8"))
        except (UnicodeDecodeError, InvalidValueError) as err:
            self.stats.invalid_inputs += 1
            self._warn("input", "dropped an invalid value for input %s: %s", name, err)
            return
        self.inputs[name] = value
        for callback in self._input_callbacks.get(name, ()):
            try:
                callback(value)
            except Exception:
                _LOGGER.exception("%s: the callback for input %s failed", self.label, name)

    def _decode_input(self, name: str, topic: str, text: str) -> Value:
        """Type a value; one from a linked output may be a number to transform and round."""
        spec = self.declaration.inputs.get(name) if self.declaration else None
        schema = self.schema
        if schema is None or not schema.is_linked(name, topic):
            return spec.decode(text) if spec is not None else text
        transform = schema.transform(name, topic)
        if spec is not None:
            return spec.decode_linked(text, transform.apply if transform else None)
        if transform is None:
            return text
        return number_text(transform.apply(parse_number(text, name)))

    def _command(self, payload: bytes) -> None:
        try:
            command = parse_command(payload)
        except CommandError as err:
            self.stats.invalid_commands += 1
            self._warn("command", "dropped a command: %s", err)
            return
        if command is None:
            _LOGGER.debug("%s: ignored an unknown command", self.label)
            return
        if command.cmd == "schema_update":
            self.resubscribe()
        if self.agent is not None:
            try:
                if self.agent.command(command):
                    return
            except Exception:
                _LOGGER.exception("%s: the update agent failed on %s", self.label, command.cmd)
        self.dispatch_command(command)

    def dispatch_command(self, command: Command) -> None:
        """Hand ``command`` to the ``on_command`` callbacks."""
        for callback in self._command_callbacks:
            try:
                callback(command)
            except Exception:
                _LOGGER.exception("%s: the callback for command %s failed", self.label, command.cmd)

    def _adopted(self, payload: bytes) -> None:
        if not payload:
            return  # the hub cleared the handover; nothing to take
        schema = self._parse_schema(payload)
        if schema is None:
            return
        _LOGGER.info("%s: adopted as %s", self.label, schema.uid)
        self._store(schema)
        self._notify(SessionEvent.ADOPTED)
        self._switch_identity()

    def _schema_message(self, current: SchemaJson, payload: bytes) -> None:
        if not payload:
            self._deleted()
            return
        schema = self._parse_schema(payload)
        if schema is None:
            return
        if schema.uid != current.uid:
            self.stats.invalid_schemas += 1
            self._warn("schema", "ignored a schema.json for unit %s", schema.uid)
            return
        self.apply_schema(schema)

    def resubscribe(self) -> None:
        """Subscribe again to every topic: the broker may have refused some before (its
        access control was updated after the schema arrived); repeating is harmless."""
        if self.link is not None and self._subscribed:
            self.link.subscribe(sorted(self._subscribed))

    def apply_schema(self, schema: SchemaJson) -> None:
        """Take a new ``schema.json`` of this unit: store it and resubscribe to match."""
        current = self.schema
        if current is None or schema.document == current.document:
            return
        if self.link is None:
            self._store(schema)
            return
        if schema.sys["status"] != current.sys["status"]:
            self._store(schema)
            self._switch_identity()  # the Last Will must move to the new status topic
            return
        wanted = schema.subscriptions()
        self.link.unsubscribe(sorted(self._subscribed - wanted))
        self.link.subscribe(sorted(wanted - self._subscribed))
        self._subscribed = wanted
        self._store(schema)
        _LOGGER.info("%s: schema.json updated; subscribed to %d topics", self.label, len(wanted))

    def apply_env(self, state_interval: float) -> None:
        """Take a new state interval from a refetched ``env.json`` (from the next report)."""
        if state_interval != self.options.state_interval:
            self.options = replace(self.options, state_interval=state_interval)

    def change_broker(self, broker: BrokerSettings) -> None:
        """Reconnect with new broker settings (from a refetched ``env.json``)."""
        if broker == self._broker:
            return
        self._broker = broker
        if self.link is not None:
            self._switch_identity()

    def _deleted(self) -> None:
        if self.announcement is None:
            _LOGGER.warning(
                "%s: the hub deleted this unit; a unit without announce keeps its schema.json",
                self.label,
            )
            return
        _LOGGER.info("%s: deleted by the hub; announcing again", self.label)
        self.schema = None
        self._apply_routes()
        self.stats.dropped_unadopted += self.outbox.clear()
        self.schema_path.unlink(missing_ok=True)
        self._notify(SessionEvent.DELETED)
        self._switch_identity()

    def _parse_schema(self, payload: bytes) -> SchemaJson | None:
        try:
            return SchemaJson.parse_payload(payload)
        except SchemaJsonError as err:
            self.stats.invalid_schemas += 1
            self._warn("schema", "ignored an unusable schema.json: %s", err)
            return None

    def _store(self, schema: SchemaJson) -> None:
        self.schema = schema
        self._apply_routes()
        try:
            save_schema_file(self.schema_path, schema)
        except OSError as err:
            _LOGGER.error(
                "%s: cannot keep schema.json at %s: %s", self.label, self.schema_path, err
            )

    def _apply_routes(self) -> None:
        self._routes = self.schema.routes() if self.schema else {}

    # identity

    def _identity(self) -> LinkIdentity:
        if self.schema is None:
            assert self.announcement is not None
            return LinkIdentity(client_id=self.announcement.announce_id)
        will = Will(self.schema.sys["status"], STATUS_OFFLINE, qos=1, retain=True)
        return LinkIdentity(client_id=self.schema.uid, will=will)

    def _switch_identity(self) -> None:
        """Reconnect as who the unit is now (new uid, or back to announcing)."""
        assert self.link is not None
        self._switching = True
        self._established = False
        self._cancel_state_timer()
        task = self.link.loop.create_task(self._reconnect_as_new_identity())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reconnect_as_new_identity(self) -> None:
        assert self.link is not None
        try:
            await self.link.close()
            self._subscribed = set()
            self.link.broker = self._broker
            self.link.open(self._identity())
        finally:
            self._switching = False

    # helpers

    def _notify(self, event: SessionEvent) -> None:
        if self.observer is not None:
            try:
                self.observer(event)
            except Exception:
                _LOGGER.exception("%s: the session observer failed on %s", self.label, event)

    def _warn(self, kind: str, message: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self._warned_at.get(kind, -WARN_EVERY) >= WARN_EVERY:
            self._warned_at[kind] = now
            _LOGGER.warning(f"%s: {message}", self.label, *args)  # noqa: G004
