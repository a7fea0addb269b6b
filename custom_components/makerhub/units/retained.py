"""What the broker holds retained for the units, and getting it back in step.

The hub's retained topics are each unit's ``schema.json`` and its inputs' set-points. The
broker's copies are followed as they arrive (``sys/schema``, ``in/<name>``); a check some
seconds after each subscription (start-up, MQTT reconnect) republishes what the broker
lacks or holds otherwise, in batches (:class:`Republisher`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
import hashlib
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from ..core.schema import Value
from ..core.unit import UnitRuntime
from .publisher import UnitPublisher
from .republish import Republisher
from .setpoints import same_value

RETAINED_CHECK_DELAY: Final = 5.0
"""Seconds after subscribing (start-up, MQTT reconnect) the hub compares what the broker
holds retained (``schema.json``, set-points) with its own."""


def schema_digest(payload: str | bytes | bytearray) -> bytes:
    """Return a short digest of a ``schema.json`` payload (kept instead of the payload)."""
    data = payload.encode() if isinstance(payload, str) else payload
    return hashlib.blake2b(data, digest_size=16).digest()


class RetainedCopies:
    """The broker's retained copies of the units' topics, as last seen, and the check."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        units: Mapping[str, UnitRuntime],
        publisher: UnitPublisher,
    ) -> None:
        """Follow the copies of ``units`` (the hub's own mapping, read when checking)."""
        self.hass = hass
        self._units = units
        self._publisher = publisher
        self.schemas: dict[str, bytes] = {}
        """Digest of the ``schema.json`` the broker holds retained, per unit."""
        self.inputs: dict[str, dict[str, Value]] = {}
        """Per unit, the input values the broker holds retained (as last seen)."""
        self.cleared: set[str] = set()
        """``sys`` topics of deleted units the hub cleared and has not heard back yet: the
        broker's echo of each (an empty message) is the hub's own, not bad input."""
        self.republisher: Republisher[tuple[str, str | None]] = Republisher(
            hass, entry, lambda key: self.stale_message(*key)
        )
        """Retained topics to publish again: ``(uid, input)``, or ``(uid, None)`` for the
        unit's ``schema.json``."""
        self.check_pending: CALLBACK_TYPE | None = None
        """Cancels the check scheduled, while one waits for the broker's copies."""

    @callback
    def on_mqtt_connection(self, connected: bool) -> None:
        """After a reconnect, check what the broker holds once its copies arrived again.

        The broker may have restarted and lost its retained messages, or kept older ones
        (it saves them now and then); Home Assistant subscribes again and the broker sends
        its copies again, so what the hub saw before counts for nothing.
        """
        if not connected:
            return
        self.inputs.clear()
        self.schemas.clear()
        self.schedule_check()

    @callback
    def schedule_check(self) -> None:
        """Check what the broker holds once its copies have arrived."""
        if self.check_pending is not None:
            self.check_pending()
        self.check_pending = async_call_later(self.hass, RETAINED_CHECK_DELAY, self._check)

    @callback
    def _check(self, _now: datetime) -> None:
        """Republish what the broker lacks or holds otherwise: every unit's ``schema.json``
        and set-points.

        Runs once per subscription (start-up, reconnect), after the broker's retained
        copies have arrived: a broker that lost them (or a unit whose schema changed
        while the hub was down) gets them back, without a burst of publishes every time.
        """
        self.check_pending = None
        for unit in self._units.values():
            self.queue_stale(unit)

    @callback
    def queue_stale(self, unit: UnitRuntime, *, schema: bool = True) -> None:
        """Queue a unit's ``schema.json`` (unless ``schema`` is False) and set-points the
        broker lacks or holds otherwise."""
        uid = unit.uid
        stale: list[tuple[str, str | None]] = []
        if schema and self.schemas.get(uid) != schema_digest(self._publisher.schema_payload(unit)):
            stale.append((uid, None))
        held = self.inputs.get(uid, {})
        stale += [
            (uid, name)
            for name, value in unit.inputs.items()
            if not same_value(held.get(name), value)
        ]
        self.republisher.queue(stale)

    def stale_message(self, uid: str, name: str | None) -> tuple[str, str] | None:
        """Return the topic and payload of a queued republish, if it is still due (the
        unit and input exist, and the broker's copy is not the current one)."""
        if (unit := self._units.get(uid)) is None:
            return None
        if name is None:
            payload = self._publisher.schema_payload(unit)
            if self.schemas.get(uid) == schema_digest(payload):
                return None
            return unit.topics.sys("schema"), payload
        variable = unit.identity.schema.inputs.get(name)
        value = unit.inputs.get(name)
        if variable is None or value is None:
            return None
        if same_value(self.inputs.get(uid, {}).get(name), value):
            return None
        return unit.topics.input(name), variable.encode(value)

    def forget(self, uid: str) -> None:
        """Forget the copies of a removed unit."""
        self.schemas.pop(uid, None)
        self.inputs.pop(uid, None)

    def stop(self) -> None:
        """Cancel the check waiting, if one is."""
        if self.check_pending is not None:
            self.check_pending()
            self.check_pending = None
