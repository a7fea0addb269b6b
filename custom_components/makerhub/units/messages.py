"""The MQTT message path: every message on the unit namespace, decoded and applied.

Four wildcard subscriptions (``P/+/out/+``, ``P/+/in/+``, ``P/+/sys/+``, ``P/announce/+``)
land here: the topic is split, the payload decoded with the pure core, and the unit's
:class:`UnitRuntime` updated (entities listen to it); telemetry gets every output value and
input change. Announcements of units not adopted yet offer their adoption. Bad input is
counted and logged, never raised. This is the hot path: the handlers keep direct
references to what they touch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import logging
from typing import TYPE_CHECKING

from homeassistant.components.mqtt import ReceiveMessage
from homeassistant.config_entries import SOURCE_MQTT, ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, discovery_flow, issue_registry as ir
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo

from ..const import DATA_MODEL, DATA_SCHEMA, DOMAIN, EVENT_UNIT_EVENT
from ..core.bad_input import BadInputTracker
from ..core.errors import BadInputError, BadInputReason
from ..core.protocol import (
    ANNOUNCE,
    DEFAULT_PREFIX,
    STATUS_OFFLINE,
    STATUS_ONLINE,
    Announcement,
    adopted_topic,
    announce_topic,
    decode_text,
    parse_announce_topic,
    parse_announcement,
    parse_event,
    parse_log,
    parse_state,
)
from ..core.schema import Direction, Value, is_valid_name
from ..core.unit import STATE, UnitRuntime
from .availability import Availability
from .publisher import UnitPublisher
from .retained import RetainedCopies, schema_digest
from .setpoints import SetpointStore
from .variables import check_schema

if TYPE_CHECKING:
    from ..telemetry.manager import HubTelemetry

_LOGGER = logging.getLogger(__package__)


def unit_by_announce_id(units: Mapping[str, UnitRuntime], announce_id: str) -> UnitRuntime | None:
    """Return the adopted unit that announced itself with ``announce_id``."""
    for unit in units.values():
        if unit.identity.announce_id == announce_id:
            return unit
    return None


class UnitMessages:
    """The handlers of the hub's four subscriptions, and what they count."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        *,
        units: Mapping[str, UnitRuntime],
        subentry_ids: Mapping[str, str],
        telemetry: HubTelemetry | None,
        setpoints: SetpointStore,
        publisher: UnitPublisher,
        retained: RetainedCopies,
        availability: Availability,
    ) -> None:
        """Apply messages to ``units`` (the hub's own mapping) under the publisher's prefix."""
        self.hass = hass
        self.entry = entry
        self.prefix = publisher.prefix
        self._units = units
        self._subentry_ids = subentry_ids
        self._telemetry = telemetry
        self._setpoints = setpoints
        self._publisher = publisher
        self._retained = retained
        self._retained_inputs = retained.inputs
        self._cleared = retained.cleared
        self._availability = availability
        self._depth = self.prefix.count("/") + 4
        self.bad_input = BadInputTracker(_LOGGER)
        self.announced: dict[str, Announcement] = {}
        """Announcements of units not adopted yet, by announce id."""
        self._handed_over: set[str] = set()
        self.messages = 0
        self.output_values = 0
        """Output values accepted (the benchmark's count of what was fully processed)."""

    def subscriptions(self) -> list[tuple[str, Callable[[ReceiveMessage], None]]]:
        """Return the topics to subscribe to and their handlers."""
        prefix = self.prefix
        return [
            (f"{prefix}/+/out/+", self.on_output),
            (f"{prefix}/+/in/+", self.on_input),
            (f"{prefix}/+/sys/+", self.on_sys),
            (f"{prefix}/{ANNOUNCE}/+", self.on_announce),
        ]

    def forget(self, uid: str) -> None:
        """Forget a removed unit."""
        self._handed_over.discard(uid)

    @callback
    def _split(self, msg: ReceiveMessage) -> tuple[UnitRuntime, str] | None:
        """Return the unit and the last topic level of ``P/<uid>/<kind>/<name>``."""
        self.messages += 1
        parts = msg.topic.split("/")
        if len(parts) != self._depth:
            self.bad_input.record(BadInputReason.BAD_TOPIC, "unexpected depth", msg.topic)
            return None
        uid = parts[-3]
        unit = self._units.get(uid)
        if unit is None:
            if not msg.payload and msg.topic in self._cleared:
                self._cleared.discard(msg.topic)  # the echo of the hub's own clearing
            elif uid != ANNOUNCE:
                self.bad_input.record(
                    BadInputReason.UNKNOWN_UNIT, f"no adopted unit {uid[:16]!r}", msg.topic
                )
            return None
        return unit, parts[-1]

    @callback
    def _decode_variable(
        self, msg: ReceiveMessage, direction: Direction
    ) -> tuple[UnitRuntime, str, Value] | None:
        split = self._split(msg)
        if split is None:
            return None
        unit, name = split
        variable = unit.identity.schema.variables(direction).get(name)
        try:
            if variable is None:
                if is_valid_name(name):
                    raise BadInputError(
                        BadInputReason.UNKNOWN_VARIABLE, f"{direction.value} has no {name!r}"
                    )
                raise BadInputError(BadInputReason.INVALID_NAME, f"{name[:40]!r} is not a name")
            return unit, name, variable.decode(decode_text(msg.payload))
        except BadInputError as err:
            self.bad_input.record(err.reason, str(err), msg.topic, unit.uid)
            return None

    @callback
    def on_output(self, msg: ReceiveMessage) -> None:
        """Take a unit's output value."""
        if (decoded := self._decode_variable(msg, Direction.OUTPUT)) is not None:
            unit, name, value = decoded
            unit.set_value(Direction.OUTPUT, name, value)
            self.output_values += 1
            if self._telemetry is not None and self._telemetry.ingest is None:
                self._telemetry.submit(unit.uid, name, value)

    @callback
    def record_output(self, topic: str, payload: bytes) -> None:
        """Submit an output value that came on telemetry's own session.

        Only values of adopted units' declared outputs that decode are recorded; bad input
        is counted by :meth:`on_output`, which sees the same message.
        """
        parts = topic.split("/")  # the subscription makes it P/<uid>/out/<name>
        unit = self._units.get(parts[-3])
        if unit is None or self._telemetry is None:
            return
        name = parts[-1]
        variable = unit.identity.schema.variables(Direction.OUTPUT).get(name)
        if variable is None:
            return
        try:
            value = variable.decode(decode_text(payload))
        except BadInputError:
            return
        self._telemetry.submit(unit.uid, name, value)

    @callback
    def on_input(self, msg: ReceiveMessage) -> None:
        """Follow what the broker holds on the units' input topics.

        A retained copy (sent when the hub subscribes) is the broker's memory: the stored
        set-point wins over it (the check republishes it), and it is taken only for an
        input without one. A live value is someone setting the input (the hub itself, or
        a client publishing to the topic): it becomes the set-point.
        """
        if not msg.payload:  # a cleared retained input: the broker holds nothing now
            parts = msg.topic.split("/")
            if len(parts) == self._depth and (held := self._retained_inputs.get(parts[-3])):
                held.pop(parts[-1], None)
            return
        if (decoded := self._decode_variable(msg, Direction.INPUT)) is None:
            return
        unit, name, value = decoded
        self._retained_inputs.setdefault(unit.uid, {})[name] = value
        if msg.retain and name in unit.inputs:
            return
        self._setpoints.set_desired(unit, name, value)
        if self._telemetry is not None and not msg.retain:
            # A retained copy is the broker replaying a value already recorded.
            self._telemetry.submit_input(unit.identity, name, value)

    @callback
    def on_sys(self, msg: ReceiveMessage) -> None:
        """Take a unit's status, state, log or event report."""
        split = self._split(msg)
        if split is None:
            return
        unit, name = split
        try:
            if name == "status":
                self._handle_status(unit, decode_text(msg.payload))
                if (
                    unit.status == STATUS_ONLINE
                    and not msg.retain
                    and not self._retained.check_pending
                ):
                    # The unit (re)subscribed: make sure the broker has what it reads (a
                    # check still waiting for the broker's copies will look at it anyway).
                    self._retained.queue_stale(unit)
            elif name == "state":
                self._handle_state(unit, msg.payload)
            elif name == "log":
                unit.add_logs(parse_log(msg.payload))
            elif name == "event":
                self._handle_event(unit, msg.payload)
            elif name == "schema":  # the hub's own, retained: remember what the broker holds
                self._retained.schemas[unit.uid] = schema_digest(msg.payload)
            elif name != "cmd":  # the hub's own too
                raise BadInputError(BadInputReason.BAD_TOPIC, f"no sys topic {name[:40]!r}")
        except BadInputError as err:
            self.bad_input.record(err.reason, str(err), msg.topic, unit.uid)

    def _handle_status(self, unit: UnitRuntime, text: str) -> None:
        if text not in (STATUS_ONLINE, STATUS_OFFLINE, ""):
            raise BadInputError(
                BadInputReason.MALFORMED, f"status {text[:40]!r} is not online/offline"
            )
        unit.status = text or None
        if text == STATUS_ONLINE:
            # A unit that just came online gets a fresh timeout to send its first state.
            unit.watch_started = self.hass.loop.time()
        self._availability.refresh(unit)

    def _handle_state(self, unit: UnitRuntime, payload: bytes | str) -> None:
        state = parse_state(payload)
        previous = unit.state
        unit.state = state
        unit.last_state_at = self.hass.loop.time()
        if previous is None or previous.version != state.version:
            registry = dr.async_get(self.hass)
            if device := registry.async_get_device(identifiers={(DOMAIN, unit.uid)}):
                registry.async_update_device(device.id, sw_version=state.version)
        unit.notify(STATE)
        self._availability.refresh(unit)

    def _handle_event(self, unit: UnitRuntime, payload: bytes | str) -> None:
        event = parse_event(payload)
        device = dr.async_get(self.hass).async_get_device(identifiers={(DOMAIN, unit.uid)})
        self.hass.bus.async_fire(
            EVENT_UNIT_EVENT,
            {
                "device_id": device.id if device else None,
                "unit": unit.uid,
                "event": event.event,
                "version": event.version,
                "error": event.error,
            },
        )

    @callback
    def on_announce(self, msg: ReceiveMessage) -> None:
        """Take a unit's announcement: offer an unknown unit's adoption, follow an
        adopted unit's new schema."""
        try:
            announce_id = parse_announce_topic(self.prefix, msg.topic)
            if not msg.payload:
                self.announced.pop(announce_id, None)
                return
            announcement = parse_announcement(announce_id, msg.payload)
        except BadInputError as err:
            self.bad_input.record(err.reason, str(err), msg.topic)
            return
        unit = unit_by_announce_id(self._units, announce_id)
        if unit is None:
            self._offer_adoption(announcement, msg)
            return
        if announcement.uid != unit.uid:
            self._publisher.hand_over(unit)
        elif unit.uid not in self._handed_over:
            self._handed_over.add(unit.uid)
            self._publisher.publish(adopted_topic(self.prefix, announce_id), "", retain=True)
        if announcement.schema != unit.identity.schema or (
            announcement.model != unit.identity.model
        ):
            self._store_announced_schema(unit, announcement)
        else:
            ir.async_delete_issue(self.hass, DOMAIN, f"schema_refused_{unit.uid}")

    def _offer_adoption(self, announcement: Announcement, msg: ReceiveMessage) -> None:
        if issues := check_schema(announcement.schema):
            self.announced.pop(announcement.announce_id, None)
            self.bad_input.record(BadInputReason.MALFORMED, "; ".join(map(str, issues)), msg.topic)
            return
        self.announced[announcement.announce_id] = announcement
        if self.prefix == DEFAULT_PREFIX:
            return  # the manifest's mqtt key already started the discovery flow
        discovery_flow.async_create_flow(
            self.hass,
            DOMAIN,
            {"source": SOURCE_MQTT},
            MqttServiceInfo(
                topic=msg.topic,
                payload=msg.payload,
                qos=msg.qos,
                retain=msg.retain,
                subscribed_topic=msg.subscribed_topic,
                timestamp=msg.timestamp,
            ),
        )

    def _store_announced_schema(self, unit: UnitRuntime, announcement: Announcement) -> None:
        issue_id = f"schema_refused_{unit.uid}"
        if issues := check_schema(announcement.schema):
            problems = "; ".join(map(str, issues))
            self.bad_input.record(
                BadInputReason.MALFORMED,
                f"new schema refused, the old one is kept: {problems}",
                announce_topic(self.prefix, announcement.announce_id),
                unit.uid,
            )
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="schema_refused",
                translation_placeholders={"name": unit.identity.name, "error": problems},
            )
            return
        ir.async_delete_issue(self.hass, DOMAIN, issue_id)
        subentry = self.entry.subentries[self._subentry_ids[unit.uid]]
        self.hass.config_entries.async_update_subentry(
            self.entry,
            subentry,
            data={
                **subentry.data,
                DATA_SCHEMA: announcement.schema.to_json(),
                DATA_MODEL: announcement.model,
            },
        )
