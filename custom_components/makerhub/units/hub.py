"""The hub: Makerhub's units on MQTT inside Home Assistant, kept in step with the hub
entry's unit and link subentries.

:class:`MakerhubHub` is the coordinator: it holds the units and their entities (the
platforms register how to build them), starts and stops its parts and moves the units to
a new topic prefix. Its parts each do one job: loading, updating and removing units
(``lifecycle.py``), the message path (``messages.py``), what it publishes
(``publisher.py``), the broker's retained copies (``retained.py``) and availability
(``availability.py``); ``diagnostics.py`` reads them all.

It is one part of the runtime (``runtime.py``): it is given telemetry, broker access and
the set-point store, and knows entities only as :class:`UnitEntity`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
import logging
from typing import TYPE_CHECKING, Any, Protocol

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import (
    entity_registry as er,
)
from homeassistant.helpers.device_registry import DeviceInfo

from ..broker_access.access import BrokerAccess
from ..const import (
    CONF_OFFLINE_TIMEOUT,
    CONF_PREFIX,
    CONF_UPDATE_INTERVAL,
    DEFAULT_OFFLINE_TIMEOUT,
    DEFAULT_UPDATE_INTERVAL,
    DOMAIN,
)
from ..core.links import LinkRegistry
from ..core.protocol import DEFAULT_PREFIX, UnitTopics, adopted_topic, announce_topic
from ..core.schema import Direction, Value
from ..core.unit import UnitIdentity, UnitRuntime
from ..devices import unit_device_info
from .availability import Availability
from .coalesce import StateWriteCoalescer
from .lifecycle import UnitEntity, UnitLifecycle
from .messages import UnitMessages
from .publisher import QOS, UnitPublisher
from .retained import RetainedCopies
from .setpoints import SetpointStore
from .variables import (
    LEVEL_DIRECTION,
    EntityKey,
    parse_unit_entity_unique_id,
)

if TYPE_CHECKING:
    from ..telemetry.manager import HubTelemetry

_LOGGER = logging.getLogger(__package__)


class AddEntities(Protocol):
    """The platform's ``async_add_entities``, as the hub calls it."""

    def __call__(
        self, new_entities: Iterable[Any], *, config_subentry_id: str | None = None
    ) -> None:
        """Add entities to the platform, attached to a subentry."""


type EntityBuilder = Callable[[MakerhubHub, UnitRuntime], Sequence[UnitEntity]]


@dataclass(frozen=True, slots=True)
class HubOptions:
    """The hub's tunables, from the config entry's options."""

    prefix: str
    offline_timeout: float
    update_interval: float

    @classmethod
    def from_entry(cls, entry: ConfigEntry) -> HubOptions:
        """Read the options, falling back to defaults."""
        return cls(
            prefix=entry.options.get(CONF_PREFIX, DEFAULT_PREFIX),
            offline_timeout=float(entry.options.get(CONF_OFFLINE_TIMEOUT, DEFAULT_OFFLINE_TIMEOUT)),
            update_interval=float(entry.options.get(CONF_UPDATE_INTERVAL, DEFAULT_UPDATE_INTERVAL)),
        )


class MakerhubHub:
    """Units on MQTT, kept in step with the hub entry's unit subentries."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        *,
        telemetry: HubTelemetry | None,
        broker_access: BrokerAccess,
        setpoints: SetpointStore,
    ) -> None:
        """Prepare; nothing is subscribed until :meth:`async_start`."""
        self.hass = hass
        self.entry = entry
        self.telemetry = telemetry
        """Where every output value and input change is recorded, when configured."""
        self.broker_access = broker_access
        """Per-unit broker credentials and ACLs, kept in step with the units and links."""
        self.setpoints = setpoints
        """Every unit input's desired value, stored; each unit's ``inputs`` is its part."""
        self.options = HubOptions.from_entry(entry)
        self.prefix = self.options.prefix
        self.units: dict[str, UnitRuntime] = {}
        self.subentry_ids: dict[str, str] = {}
        self.coalescer = StateWriteCoalescer(hass, self.options.update_interval)
        self.publisher = UnitPublisher(hass, entry, self.prefix)
        self.schema_json = self.publisher.schema_json
        """A unit's ``schema.json``, its links included (or another version's)."""
        self.async_send_command = self.publisher.async_send_command
        """Publish a command on a unit's ``sys/cmd`` topic."""
        self.retained = RetainedCopies(hass, entry, self.units, self.publisher)
        self.availability = Availability(hass, self.units, self.options.offline_timeout)
        self.inbox = UnitMessages(
            hass,
            entry,
            units=self.units,
            subentry_ids=self.subentry_ids,
            telemetry=telemetry,
            setpoints=setpoints,
            publisher=self.publisher,
            retained=self.retained,
            availability=self.availability,
        )
        """The message path: what arrives on the unit namespace, and what it counted."""
        self.bad_input = self.inbox.bad_input
        self.announced = self.inbox.announced
        """Announcements of units not adopted yet, by announce id."""
        self._builders: list[tuple[AddEntities, EntityBuilder]] = []
        self._live: dict[tuple[str, EntityKey], UnitEntity] = {}
        self._device_infos: dict[str, tuple[UnitIdentity, str | None, DeviceInfo]] = {}
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self.lifecycle = UnitLifecycle(
            hass,
            entry,
            units=self.units,
            subentry_ids=self.subentry_ids,
            telemetry=telemetry,
            broker_access=broker_access,
            setpoints=setpoints,
            publisher=self.publisher,
            retained=self.retained,
            availability=self.availability,
            inbox=self.inbox,
            add_entities=self._add_entities,
            live=self._live,
            device_infos=self._device_infos,
        )
        """Loads, updates and removes the units as the unit subentries change."""
        self.async_reconcile = self.lifecycle.async_reconcile
        """Bring units and entities in step with the unit subentries."""

    @property
    def links(self) -> LinkRegistry:
        """The links stored in the hub's subentries, as last reconciled."""
        return self.publisher.links

    # -- lifecycle --------------------------------------------------------------------

    async def async_start(self) -> None:
        """Load stored units and set-points, subscribe, and check later that the broker
        holds every unit's ``schema.json`` and set-points."""
        await self.lifecycle.async_load()
        if self.telemetry is not None:  # after the units are known, before HA's path
            await self.telemetry.async_start_ingest(self.prefix, self.inbox.record_output)
        for topic, handler in self.inbox.subscriptions():
            self._unsubscribe.append(
                await mqtt.async_subscribe(self.hass, topic, handler, QOS, encoding=None)
            )
        self._unsubscribe.append(self.availability.async_start())
        self._unsubscribe.append(
            mqtt.async_subscribe_connection_status(self.hass, self.retained.on_mqtt_connection)
        )
        self._unsubscribe.append(self.broker_access.add_repair_listener(self.resend_schemas))
        self.retained.schedule_check()
        self.lifecycle.sync_broker_access()

    async def async_stop(self) -> None:
        """Unsubscribe, stop timers and write the set-points still waiting."""
        while self._unsubscribe:
            self._unsubscribe.pop()()
        self.retained.stop()
        await self.setpoints.async_flush()
        self.coalescer.stop()

    async def async_move_prefix(self) -> None:
        """Move every unit to a changed topic prefix, losing no desired value.

        Units follow their ``sys/schema`` topic, so the new ``schema.json`` (naming the new
        topics) goes there, and retained input values are copied to the new topics.
        """
        prefix = HubOptions.from_entry(self.entry).prefix
        if prefix == self.prefix:
            return
        _LOGGER.info("Moving %d units from %s/ to %s/", len(self.units), self.prefix, prefix)
        for unit in self.units.values():
            old, new = unit.topics, UnitTopics(prefix, unit.uid)
            schema_json = self.publisher.schema_payload(unit, new)
            moves: list[tuple[str, str]] = [(new.sys("schema"), schema_json)]
            for name, value in unit.inputs.items():
                text = unit.identity.schema.inputs[name].encode(value)
                moves += [(new.input(name), text), (old.input(name), "")]
            moves += [(old.sys("schema"), schema_json), (old.sys("status"), "")]
            if (announce_id := unit.identity.announce_id) is not None:
                moves += [
                    (announce_topic(self.prefix, announce_id), ""),
                    (adopted_topic(self.prefix, announce_id), ""),
                ]
            for topic, payload in moves:
                await self.publisher.async_publish_retained(topic, payload)

    # -- platforms and entities -------------------------------------------------------

    @callback
    def register_entity_builder(self, add_entities: AddEntities, build: EntityBuilder) -> None:
        """Remember how a feature builds a unit's entities of one platform, and build them
        for every unit now (and for each unit adopted or changed later)."""
        self._builders.append((add_entities, build))
        for unit in self.units.values():
            self._add_built_entities(add_entities, build, unit, None)

    @callback
    def _add_entities(self, unit: UnitRuntime, keys: set[EntityKey] | None) -> None:
        for add_entities, build in self._builders:
            self._add_built_entities(add_entities, build, unit, keys)

    @callback
    def _add_built_entities(
        self,
        add_entities: AddEntities,
        build: EntityBuilder,
        unit: UnitRuntime,
        keys: set[EntityKey] | None,
    ) -> None:
        entities = [e for e in build(self, unit) if keys is None or e.key in keys]
        if entities:
            add_entities(entities, config_subentry_id=self.subentry_ids[unit.uid])

    @callback
    def track_entity(self, entity: UnitEntity) -> CALLBACK_TYPE:
        """Record a live entity (so a schema change can replace it); return the undo."""
        key = (entity.unit.uid, entity.key)
        self._live[key] = entity

        @callback
        def untrack() -> None:
            if self._live.get(key) is entity:
                del self._live[key]

        return untrack

    def device_info(self, unit: UnitRuntime) -> DeviceInfo:
        """Return the device of a unit, one object shared by the unit's entities.

        The firmware version is left out until the unit reports one, so that entities
        created before its first state report keep the version the registry has.
        """
        identity = unit.identity
        version = unit.state.version if unit.state else None
        cached = self._device_infos.get(identity.uid)
        if cached is not None and cached[0] is identity and cached[1] == version:
            return cached[2]
        info = unit_device_info(identity, version)
        self._device_infos[identity.uid] = (identity, version, info)
        return info

    # -- units -----------------------------------------------------------------------

    def variable_of_entity(self, entity_id: str) -> tuple[UnitRuntime, Direction, str] | None:
        """Return the unit, direction and name of the variable an entity shows, if any."""
        entry = er.async_get(self.hass).async_get(entity_id)
        if entry is None or entry.platform != DOMAIN:
            return None
        if (parsed := parse_unit_entity_unique_id(entry.unique_id)) is None:
            return None
        uid, (level, name) = parsed
        direction = LEVEL_DIRECTION.get(level)
        unit = self.units.get(uid)
        if unit is None or direction is None:
            return None
        if name not in unit.identity.schema.variables(direction):
            return None
        return unit, direction, name

    # -- inputs and commands ----------------------------------------------------------

    @callback
    def resend_schemas(self) -> None:
        """Send every unit ``schema_update`` (after the broker's ACLs were repaired, so
        units subscribe again to what they were refused)."""
        for unit in self.units.values():
            self.publisher.publish_command(unit, "schema_update")

    async def async_set_input(self, unit: UnitRuntime, name: str, value: Value) -> None:
        """Store an input's desired value, show it at once and publish it (retained).

        Stored first: should the publish fail, the value goes out when the broker is back.
        """
        variable = unit.identity.schema.inputs[name]
        text = variable.encode(value)
        self.setpoints.set_desired(unit, name, variable.decode(text))
        await self.publisher.async_publish_retained(unit.topics.input(name), text)
