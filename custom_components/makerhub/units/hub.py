"""The hub: Makerhub's MQTT side inside Home Assistant.

It subscribes to the unit namespace with four wildcard subscriptions, decodes every
message with the pure core, feeds :class:`UnitRuntime` objects that entities listen to,
and keeps the set of units and entities in step with the hub's unit and link subentries
(their retained ``schema.json`` and set-points, and their broker access, included).

It is one part of the runtime (``runtime.py``): it is given telemetry, broker access and
the set-point store, and knows entities only as :class:`UnitEntity`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
import hashlib
import json
import logging
from typing import TYPE_CHECKING, Any, Protocol

from homeassistant.components import mqtt
from homeassistant.components.mqtt import ReceiveMessage
from homeassistant.config_entries import SOURCE_MQTT, ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import (
    device_registry as dr,
    discovery_flow,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo

from ..broker_access.access import BrokerAccess
from ..const import (
    CONF_OFFLINE_TIMEOUT,
    CONF_PREFIX,
    CONF_UPDATE_INTERVAL,
    DATA_MODEL,
    DATA_SCHEMA,
    DEFAULT_OFFLINE_TIMEOUT,
    DEFAULT_UPDATE_INTERVAL,
    DOMAIN,
    EVENT_UNIT_EVENT,
    HUB_DEVICE_ID,
    SUBENTRY_AGGREGATE,
    SUBENTRY_PHONE,
    SUBENTRY_REPOSITORY,
    SUBENTRY_STATION,
)
from ..core.bad_input import BadInputTracker
from ..core.errors import BadInputError, BadInputReason, SchemaError
from ..core.protocol import (
    ANNOUNCE,
    DEFAULT_PREFIX,
    STATUS_OFFLINE,
    STATUS_ONLINE,
    Announcement,
    UnitTopics,
    adopted_topic,
    announce_topic,
    build_schema_json,
    command,
    decode_text,
    parse_announce_topic,
    parse_announcement,
    parse_event,
    parse_log,
    parse_state,
)
from ..core.schema import Direction, UnitSchema, Value, Variable, is_valid_name
from ..core.setpoints import fit_setpoints
from ..core.unit import STATE, UnitIdentity, UnitRuntime
from ..core.unit_env import redact_schema
from ..devices import (
    async_forget_device,
    device_exists,
    makerhub_device,
    unit_device_info,
)
from ..links.subentries import async_remove_links_of, stored_links
from .coalesce import StateWriteCoalescer
from .republish import Republisher
from .setpoints import SetpointStore
from .subentries import unit_identity, unit_subentries
from .variables import (
    EntityKey,
    check_schema,
    parse_unit_entity_unique_id,
    platform_for,
    unit_entity_unique_id,
)

if TYPE_CHECKING:
    from ..telemetry.manager import HubTelemetry

_LOGGER = logging.getLogger(__package__)

AVAILABILITY_CHECK = timedelta(seconds=5)
RETAINED_CHECK_DELAY = 5.0
"""Seconds after subscribing (start-up, MQTT reconnect) the hub compares what the broker
holds retained (``schema.json``, set-points) with its own."""
TOPIC_LEVEL = {Direction.OUTPUT: "out", Direction.INPUT: "in"}
LEVEL_DIRECTION = {level: direction for direction, level in TOPIC_LEVEL.items()}
QOS = 1


class AddEntities(Protocol):
    """The platform's ``async_add_entities``, as the hub calls it."""

    def __call__(
        self, new_entities: Iterable[Any], *, config_subentry_id: str | None = None
    ) -> None:
        """Add entities to the platform, attached to a subentry."""


class UnitEntity(Protocol):
    """What the hub needs of a unit's entity (``entity.MakerhubUnitEntity``)."""

    @property
    def unit(self) -> UnitRuntime:
        """The unit the entity belongs to."""

    @property
    def key(self) -> EntityKey:
        """The entity's key within its unit."""

    @property
    def hass(self) -> HomeAssistant | None:
        """Home Assistant, once the entity is added."""

    def async_write_ha_state(self) -> None:
        """Write the entity's state."""

    async def async_remove(self, *, force_remove: bool = False) -> None:
        """Remove the entity."""


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


def entry_settings(entry: ConfigEntry) -> tuple[Any, ...]:
    """Return what a hub reloads for when it changes: data, options, the other subentries.

    Unit subentries are not in it: the hub follows those without a reload.
    """
    others = sorted(
        (subentry.subentry_id, subentry.title, dict(subentry.data))
        for subentry in entry.subentries.values()
        if subentry.subentry_type
        in (SUBENTRY_AGGREGATE, SUBENTRY_PHONE, SUBENTRY_STATION, SUBENTRY_REPOSITORY)
    )
    return dict(entry.data), dict(entry.options), others


TELEMETRY_UNIQUE_ID_PREFIXES = (f"{HUB_DEVICE_ID}-telemetry-", f"{HUB_DEVICE_ID}-aggregate-")


def variable_signatures(schema: UnitSchema) -> dict[EntityKey, tuple[Platform, Variable]]:
    """Return, per entity key, the platform and variable that make up its entity."""
    return {
        (TOPIC_LEVEL[direction], name): (platform_for(direction, variable), variable)
        for direction, variables in (
            (Direction.OUTPUT, schema.outputs),
            (Direction.INPUT, schema.inputs),
        )
        for name, variable in variables.items()
    }


def _same_value(held: Value | None, value: Value) -> bool:
    """Return whether the broker's copy of an input is ``value`` (``1`` is not ``True``)."""
    return type(held) is type(value) and held == value


def schema_digest(payload: str | bytes | bytearray) -> bytes:
    """Return a short digest of a ``schema.json`` payload (kept instead of the payload)."""
    data = payload.encode() if isinstance(payload, str) else payload
    return hashlib.blake2b(data, digest_size=16).digest()


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
        self.settings = entry_settings(entry)
        """What the entry held when this hub started; a change means reload."""
        self.prefix = self.options.prefix
        self.links = stored_links(entry)
        """The links stored in the hub's subentries, as last reconciled."""
        self._published_links: dict[str, tuple[Any, Any]] = {}
        """Per unit, the links and transforms its published ``schema.json`` holds."""
        self.units: dict[str, UnitRuntime] = {}
        self.subentry_ids: dict[str, str] = {}
        self.announced: dict[str, Announcement] = {}
        """Announcements of units not adopted yet, by announce id."""
        self.bad_input = BadInputTracker(_LOGGER)
        self.coalescer = StateWriteCoalescer(hass, self.options.update_interval)
        self.messages = 0
        self.output_values = 0
        """Output values accepted (the benchmark's count of what was fully processed)."""
        self._builders: list[tuple[AddEntities, EntityBuilder]] = []
        self._live: dict[tuple[str, EntityKey], UnitEntity] = {}
        self._device_infos: dict[str, tuple[UnitIdentity, str | None, DeviceInfo]] = {}
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._unavailable_logged: set[str] = set()
        self._handed_over: set[str] = set()
        self._reconcile_lock = asyncio.Lock()
        self._stored: dict[str, tuple[str, int]] = {}
        """Per unit, the subentry title and data object last read (to skip re-parsing)."""
        self._retained_schemas: dict[str, bytes] = {}
        """Digest of the ``schema.json`` the broker holds retained, per unit."""
        self._cleared: set[str] = set()
        """``sys`` topics of deleted units the hub cleared and has not heard back yet: the
        broker's echo of each (an empty message) is the hub's own, not bad input."""
        self._retained_inputs: dict[str, dict[str, Value]] = {}
        """Per unit, the input values the broker holds retained (as last seen)."""
        self.republisher: Republisher[tuple[str, str | None]] = Republisher(
            hass, entry, lambda key: self._stale_message(*key)
        )
        """Retained topics to publish again: ``(uid, input)``, or ``(uid, None)`` for the
        unit's ``schema.json``."""
        self._retained_check: CALLBACK_TYPE | None = None
        self._depth = self.prefix.count("/") + 4

    # -- lifecycle --------------------------------------------------------------------

    async def async_start(self) -> None:
        """Load stored units and set-points, subscribe, and check later that the broker
        holds every unit's ``schema.json`` and set-points."""
        await self.setpoints.async_load()
        stored = unit_subentries(self.entry)
        self.setpoints.keep_only(stored)
        for uid, subentry in stored.items():
            self._load_unit(uid, subentry.subentry_id, subentry.title)
        self._remove_stale_devices()
        prefix = self.prefix
        for topic, handler in (
            (f"{prefix}/+/out/+", self._on_output),
            (f"{prefix}/+/in/+", self._on_input),
            (f"{prefix}/+/sys/+", self._on_sys),
            (f"{prefix}/{ANNOUNCE}/+", self._on_announce),
        ):
            self._unsubscribe.append(
                await mqtt.async_subscribe(self.hass, topic, handler, QOS, encoding=None)
            )
        self._unsubscribe.append(
            async_track_time_interval(
                self.hass, self._check_availability, AVAILABILITY_CHECK, cancel_on_shutdown=True
            )
        )
        self._unsubscribe.append(
            mqtt.async_subscribe_connection_status(self.hass, self._on_mqtt_connection)
        )
        self._unsubscribe.append(self.broker_access.add_repair_listener(self.resend_schemas))
        self._schedule_retained_check()
        for unit in self.units.values():  # what the retained schemas hold, checked later
            self._published_links[unit.uid] = self._unit_links(unit.uid, prefix)
        self._sync_broker_access()

    # -- what the broker holds retained -------------------------------------------------

    @callback
    def _on_mqtt_connection(self, connected: bool) -> None:
        """After a reconnect, check what the broker holds once its copies arrived again.

        The broker may have restarted and lost its retained messages, or kept older ones
        (it saves them now and then); Home Assistant subscribes again and the broker sends
        its copies again, so what the hub saw before counts for nothing.
        """
        if not connected:
            return
        self._retained_inputs.clear()
        self._retained_schemas.clear()
        self._schedule_retained_check()

    @callback
    def _schedule_retained_check(self) -> None:
        if self._retained_check is not None:
            self._retained_check()
        self._retained_check = async_call_later(
            self.hass, RETAINED_CHECK_DELAY, self._check_retained
        )

    @callback
    def _check_retained(self, _now: datetime) -> None:
        """Republish what the broker lacks or holds otherwise: every unit's ``schema.json``
        and set-points.

        Runs once per subscription (start-up, reconnect), after the broker's retained
        copies have arrived: a broker that lost them (or a unit whose schema changed
        while the hub was down) gets them back, without a burst of publishes every time.
        """
        self._retained_check = None
        for unit in self.units.values():
            self._queue_stale(unit)

    @callback
    def _queue_stale(self, unit: UnitRuntime, *, schema: bool = True) -> None:
        """Queue a unit's ``schema.json`` (unless ``schema`` is False) and set-points the
        broker lacks or holds otherwise."""
        uid = unit.uid
        stale: list[tuple[str, str | None]] = []
        if schema and self._retained_schemas.get(uid) != schema_digest(self._schema_payload(unit)):
            stale.append((uid, None))
        held = self._retained_inputs.get(uid, {})
        stale += [
            (uid, name)
            for name, value in unit.inputs.items()
            if not _same_value(held.get(name), value)
        ]
        self.republisher.queue(stale)

    def _stale_message(self, uid: str, name: str | None) -> tuple[str, str] | None:
        """Return the topic and payload of a queued republish, if it is still due (the
        unit and input exist, and the broker's copy is not the current one)."""
        if (unit := self.units.get(uid)) is None:
            return None
        if name is None:
            payload = self._schema_payload(unit)
            if self._retained_schemas.get(uid) == schema_digest(payload):
                return None
            return unit.topics.sys("schema"), payload
        variable = unit.identity.schema.inputs.get(name)
        value = unit.inputs.get(name)
        if variable is None or value is None:
            return None
        if _same_value(self._retained_inputs.get(uid, {}).get(name), value):
            return None
        return unit.topics.input(name), variable.encode(value)

    async def async_stop(self) -> None:
        """Unsubscribe, stop timers and write the set-points still waiting."""
        while self._unsubscribe:
            self._unsubscribe.pop()()
        if self._retained_check is not None:
            self._retained_check()
            self._retained_check = None
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
            schema_json = self._schema_payload(unit, new)
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
                await mqtt.async_publish(self.hass, topic, payload, QOS, True)

    # -- platforms and entities -------------------------------------------------------

    @callback
    def register_entity_builder(self, add_entities: AddEntities, build: EntityBuilder) -> None:
        """Remember how a feature builds a unit's entities of one platform, and build them
        for every unit now (and for each unit adopted or changed later)."""
        self._builders.append((add_entities, build))
        for unit in self.units.values():
            self._add_built_entities(add_entities, build, unit, None)

    @callback
    def _add_entities(self, unit: UnitRuntime, keys: set[EntityKey] | None = None) -> None:
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

    # -- units ------------------------------------------------------------------------

    def _load_unit(self, uid: str, subentry_id: str, title: str) -> UnitRuntime | None:
        subentry = self.entry.subentries[subentry_id]
        try:
            identity = unit_identity(subentry)
        except (SchemaError, KeyError) as err:
            _LOGGER.error("Unit %s (%s) has a corrupt stored schema, skipped: %s", title, uid, err)
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                f"corrupt_unit_{uid}",
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="corrupt_unit",
                translation_placeholders={"name": title, "uid": uid, "error": str(err)},
            )
            return None
        unit = UnitRuntime(
            identity=identity,
            topics=UnitTopics(self.prefix, uid),
            watch_started=self.hass.loop.time(),
            inputs=self.setpoints.of(uid),
        )
        self.units[uid] = unit
        self._fit_setpoints(unit)
        self.subentry_ids[uid] = subentry_id
        self._stored[uid] = (title, id(subentry.data))
        if identity.announce_id is not None:
            self.announced.pop(identity.announce_id, None)
        if self.telemetry is not None:
            self.telemetry.register_unit(identity)
        return unit

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

    def unit_by_announce_id(self, announce_id: str) -> UnitRuntime | None:
        """Return the adopted unit that announced itself with ``announce_id``."""
        for unit in self.units.values():
            if unit.identity.announce_id == announce_id:
                return unit
        return None

    async def async_reconcile(self) -> None:
        """Bring units and entities in step with the unit subentries (added, renamed,
        schema changed, removed)."""
        async with self._reconcile_lock:
            stored = unit_subentries(self.entry)
            for uid in set(self.units) - set(stored):
                self._remove_unit(uid)
            for uid, subentry in stored.items():
                unit = self.units.get(uid)
                if unit is None:
                    if (unit := self._load_unit(uid, subentry.subentry_id, subentry.title)) is None:
                        continue
                    self._add_entities(unit)
                    self._publish_schema(unit)
                    self._hand_over(unit)
                    continue
                if self._stored.get(uid) == (subentry.title, id(subentry.data)):
                    continue  # unchanged: Home Assistant replaces data when it updates it
                self._stored[uid] = (subentry.title, id(subentry.data))
                try:
                    identity = unit_identity(subentry)
                except (SchemaError, KeyError) as err:
                    _LOGGER.error(
                        "Unit %s: stored schema is corrupt, kept the old one: %s", uid, err
                    )
                    continue
                if identity != unit.identity:
                    await self._async_update_unit(unit, identity)
            await self._async_sync_links()

    async def _async_update_unit(self, unit: UnitRuntime, identity: UnitIdentity) -> None:
        old = unit.identity
        unit.identity = identity
        if self.telemetry is not None:
            self.telemetry.register_unit(identity)
        if identity.name != old.name or identity.model != old.model:
            registry = dr.async_get(self.hass)
            if device := registry.async_get_device(identifiers={(DOMAIN, unit.uid)}):
                registry.async_update_device(
                    device.id, name=identity.name, model=identity.model or identity.schema.name
                )
        if identity.schema == old.schema:
            return
        before = variable_signatures(old.schema)
        after = variable_signatures(identity.schema)
        ent_reg = er.async_get(self.hass)
        added: set[EntityKey] = set()
        for key, (platform, variable) in before.items():
            new = after.get(key)
            if new is not None and new == (platform, variable):
                continue
            if new is not None and new[0] == platform:
                if (entity := self._live.get((unit.uid, key))) is not None:
                    await entity.async_remove(force_remove=True)
            elif entity_id := ent_reg.async_get_entity_id(
                platform, DOMAIN, unit_entity_unique_id(unit.uid, key)
            ):
                ent_reg.async_remove(entity_id)
            if new is not None:
                added.add(key)
            elif key[0] == "out":
                unit.outputs.pop(key[1], None)  # set-points: see _fit_setpoints
        added.update(key for key in after if key not in before)
        _LOGGER.info(
            "Unit %s changed its schema: %d entities added or replaced, %d removed",
            identity.name,
            len(added),
            len(set(before) - set(after)),
        )
        self._fit_setpoints(unit)
        if added:
            self._add_entities(unit, added)
        self._publish_schema(unit)
        self._queue_stale(unit, schema=False)  # set-points fitted to the new schema

    @callback
    def _fit_setpoints(self, unit: UnitRuntime) -> None:
        """Fit a unit's set-points to its schema: drop those of removed inputs and those
        the declaration now refuses (clearing their retained topics), convert or clamp
        the others (republished by the next check of the unit)."""
        changes = fit_setpoints(unit.inputs, unit.identity.schema)
        for change in changes:
            if change.new is None:
                _LOGGER.warning(
                    "Unit %s: set-point %s=%r dropped (%s)",
                    unit.identity.name, change.name, change.old, change.reason,
                )  # fmt: skip
                self._publish(unit.topics.input(change.name), "", retain=True)
            else:
                _LOGGER.info(
                    "Unit %s: set-point %s=%r is now %r (%s)",
                    unit.identity.name, change.name, change.old, change.new, change.reason,
                )  # fmt: skip
        if changes:
            self.setpoints.changed()

    def _remove_unit(self, uid: str) -> None:
        ir.async_delete_issue(self.hass, DOMAIN, f"schema_refused_{uid}")
        unit = self.units.pop(uid)
        self.subentry_ids.pop(uid)
        if self.telemetry is not None:
            self.telemetry.forget_unit(uid)
        self._stored.pop(uid, None)
        self._device_infos.pop(uid, None)
        self._retained_schemas.pop(uid, None)
        self._retained_inputs.pop(uid, None)
        self.setpoints.forget(uid)
        self._unavailable_logged.discard(uid)
        self._handed_over.discard(uid)
        topics = unit.topics
        cleared = [topics.sys("status"), topics.sys("schema")]
        self._cleared.update(cleared)
        cleared += [topics.input(name) for name in unit.identity.schema.inputs]
        if (announce_id := unit.identity.announce_id) is not None:
            cleared += [
                announce_topic(self.prefix, announce_id),
                adopted_topic(self.prefix, announce_id),
            ]
        for topic in cleared:
            self._publish(topic, "", retain=True)
        _LOGGER.info("Unit %s (%s) deleted; cleared its retained topics", unit.identity.name, uid)

    @callback
    def _remove_stale_devices(self) -> None:
        """Drop devices of this entry whose unit, station, repository or project no longer
        exists (deleted while Home Assistant was off, or while the hub was not loaded),
        and the telemetry entities when telemetry is off."""
        registry = dr.async_get(self.hass)
        if self.telemetry is None:
            entities = er.async_get(self.hass)
            for entity in er.async_entries_for_config_entry(entities, self.entry.entry_id):
                if entity.unique_id.startswith(TELEMETRY_UNIQUE_ID_PREFIXES):
                    entities.async_remove(entity.entity_id)
        for device in dr.async_entries_for_config_entry(registry, self.entry.entry_id):
            stands_for = makerhub_device(device)
            if stands_for is None or device_exists(self.hass, self.entry, stands_for):
                continue
            _LOGGER.info("Removing the device %s: its %s is gone", device.name, stands_for.kind)
            registry.async_update_device(device.id, remove_config_entry_id=self.entry.entry_id)
            async_forget_device(self.hass, stands_for)

    # -- publishing ------------------------------------------------------------------

    @callback
    def _publish(self, topic: str, payload: str, retain: bool = False) -> None:
        self.entry.async_create_background_task(
            self.hass,
            mqtt.async_publish(self.hass, topic, payload, QOS, retain),
            f"makerhub publish {topic}",
        )

    @callback
    def _publish_schema(self, unit: UnitRuntime) -> None:
        self._publish(unit.topics.sys("schema"), self._schema_payload(unit), retain=True)

    def _unit_links(self, uid: str, prefix: str) -> tuple[Any, Any]:
        """Return the links feeding a unit's inputs and their transforms (by topic)."""
        return self.links.schema_links(uid, prefix), self.links.transforms(uid, prefix)

    def schema_json(
        self,
        unit: UnitRuntime,
        topics: UnitTopics | None = None,
        schema: UnitSchema | None = None,
    ) -> dict[str, Any]:
        """Return a unit's ``schema.json``, its links included (for ``schema``: another
        version's ``makerhub.json``, such as an update's target)."""
        topics = topics or unit.topics
        links, transforms = self._unit_links(unit.uid, topics.prefix)
        return build_schema_json(topics, schema or unit.identity.schema, links, transforms)

    def _schema_payload(self, unit: UnitRuntime, topics: UnitTopics | None = None) -> str:
        """Return ``schema.json`` as published, remembering which links it holds."""
        topics = topics or unit.topics
        self._published_links[unit.uid] = self._unit_links(unit.uid, topics.prefix)
        return json.dumps(self.schema_json(unit, topics))

    async def _async_sync_links(self) -> None:
        """Follow the link subentries: drop links of deleted units, and give every unit
        whose links changed its new ``schema.json`` (and a ``schema_update`` command)."""
        self.links = stored_links(self.entry)
        stored = unit_subentries(self.entry)  # a unit that failed to load keeps its links
        for link in self.links.links():
            for uid in {link.source, link.target} - set(stored):
                async_remove_links_of(self.hass, self.entry, uid)
        changed = [
            unit
            for uid, unit in self.units.items()
            if self._published_links.get(uid) != self._unit_links(uid, self.prefix)
        ]
        # Before the units learn new topics: the broker must let them subscribe.
        await self.broker_access.async_sync(self._access_units())
        for unit in changed:
            uid = unit.uid
            self._publish_schema(unit)
            await self.async_send_command(unit, "schema_update")
            for (owner, key), entity in self._live.items():
                if owner == uid and key[0] == "in" and entity.hass is not None:
                    entity.async_write_ha_state()
            _LOGGER.debug("Unit %s: links changed, schema.json republished", unit.identity.name)

    def _access_units(self) -> dict[str, set[str]]:
        """Return every unit and the outputs of other units it may read."""
        return {
            uid: self.links.linked_topics(uid, self.prefix) for uid in unit_subentries(self.entry)
        }

    @callback
    def _sync_broker_access(self) -> None:
        """Bring the broker's credentials and ACLs in step (in the background)."""
        self.entry.async_create_background_task(
            self.hass, self.broker_access.async_sync(self._access_units()), "makerhub broker access"
        )

    @callback
    def resend_schemas(self) -> None:
        """Send every unit ``schema_update`` (after the broker's ACLs were repaired, so
        units subscribe again to what they were refused)."""
        for unit in self.units.values():
            self._publish(unit.topics.sys("cmd"), command("schema_update"))

    @callback
    def _hand_over(self, unit: UnitRuntime) -> None:
        """Give an announced unit its ``schema.json`` on its adoption topic."""
        if (announce_id := unit.identity.announce_id) is None:
            return
        self._publish(
            adopted_topic(self.prefix, announce_id), self._schema_payload(unit), retain=True
        )

    async def async_set_input(self, unit: UnitRuntime, name: str, value: Value) -> None:
        """Store an input's desired value, show it at once and publish it (retained).

        Stored first: should the publish fail, the value goes out when the broker is back.
        """
        variable = unit.identity.schema.inputs[name]
        text = variable.encode(value)
        self._set_desired(unit, name, variable.decode(text))
        await mqtt.async_publish(self.hass, unit.topics.input(name), text, QOS, True)

    @callback
    def _set_desired(self, unit: UnitRuntime, name: str, value: Value) -> None:
        """Store, and show, an input's desired value."""
        if not _same_value(unit.inputs.get(name), value):
            unit.set_value(Direction.INPUT, name, value)
            self.setpoints.changed()

    async def async_send_command(self, unit: UnitRuntime, cmd: str, **fields: Any) -> None:
        """Publish a command on the unit's ``sys/cmd`` topic."""
        await mqtt.async_publish(
            self.hass, unit.topics.sys("cmd"), command(cmd, **fields), QOS, False
        )

    # -- MQTT callbacks: the hot path -------------------------------------------------

    @callback
    def _split(self, msg: ReceiveMessage) -> tuple[UnitRuntime, str] | None:
        """Return the unit and the last topic level of ``P/<uid>/<kind>/<name>``."""
        self.messages += 1
        parts = msg.topic.split("/")
        if len(parts) != self._depth:
            self.bad_input.record(BadInputReason.BAD_TOPIC, "unexpected depth", msg.topic)
            return None
        uid = parts[-3]
        unit = self.units.get(uid)
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
    def _on_output(self, msg: ReceiveMessage) -> None:
        if (decoded := self._decode_variable(msg, Direction.OUTPUT)) is not None:
            unit, name, value = decoded
            unit.set_value(Direction.OUTPUT, name, value)
            self.output_values += 1
            if self.telemetry is not None:
                self.telemetry.submit(unit.uid, name, value)

    @callback
    def _on_input(self, msg: ReceiveMessage) -> None:
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
        self._set_desired(unit, name, value)
        if self.telemetry is not None and not msg.retain:
            # A retained copy is the broker replaying a value already recorded.
            self.telemetry.submit_input(unit.identity, name, value)

    @callback
    def _on_sys(self, msg: ReceiveMessage) -> None:
        split = self._split(msg)
        if split is None:
            return
        unit, name = split
        try:
            if name == "status":
                self._handle_status(unit, decode_text(msg.payload))
                if unit.status == STATUS_ONLINE and not msg.retain and not self._retained_check:
                    # The unit (re)subscribed: make sure the broker has what it reads (a
                    # check still waiting for the broker's copies will look at it anyway).
                    self._queue_stale(unit)
            elif name == "state":
                self._handle_state(unit, msg.payload)
            elif name == "log":
                unit.add_logs(parse_log(msg.payload))
            elif name == "event":
                self._handle_event(unit, msg.payload)
            elif name == "schema":  # the hub's own, retained: remember what the broker holds
                self._retained_schemas[unit.uid] = schema_digest(msg.payload)
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
        self._refresh_availability(unit)

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
        self._refresh_availability(unit)

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
    def _on_announce(self, msg: ReceiveMessage) -> None:
        try:
            announce_id = parse_announce_topic(self.prefix, msg.topic)
            if not msg.payload:
                self.announced.pop(announce_id, None)
                return
            announcement = parse_announcement(announce_id, msg.payload)
        except BadInputError as err:
            self.bad_input.record(err.reason, str(err), msg.topic)
            return
        unit = self.unit_by_announce_id(announce_id)
        if unit is None:
            self._offer_adoption(announcement, msg)
            return
        if announcement.uid != unit.uid:
            self._hand_over(unit)
        elif unit.uid not in self._handed_over:
            self._handed_over.add(unit.uid)
            self._publish(adopted_topic(self.prefix, announce_id), "", retain=True)
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
        subentry = self.entry.subentries[self.subentry_ids[unit.uid]]
        self.hass.config_entries.async_update_subentry(
            self.entry,
            subentry,
            data={
                **subentry.data,
                DATA_SCHEMA: announcement.schema.to_json(),
                DATA_MODEL: announcement.model,
            },
        )

    # -- availability ------------------------------------------------------------------

    @callback
    def _check_availability(self, _now: datetime) -> None:
        for unit in self.units.values():
            self._refresh_availability(unit)

    @callback
    def _refresh_availability(self, unit: UnitRuntime) -> None:
        if not unit.refresh_availability(self.hass.loop.time(), self.options.offline_timeout):
            return
        if not unit.available:
            self._unavailable_logged.add(unit.uid)
            _LOGGER.info("Unit %s (%s) is unavailable", unit.identity.name, unit.uid)
        elif unit.uid in self._unavailable_logged:
            self._unavailable_logged.discard(unit.uid)
            _LOGGER.info("Unit %s (%s) is back online", unit.identity.name, unit.uid)

    # -- diagnostics -----------------------------------------------------------------

    def diagnostics(self) -> dict[str, Any]:
        """Return the hub's runtime picture for diagnostics (no secrets in it)."""
        now = self.hass.loop.time()
        return {
            "prefix": self.prefix,
            "messages": self.messages,
            "output_values": self.output_values,
            "coalesced_updates": self.coalescer.deferred,
            "bad_input": self.bad_input.as_dict(),
            "announced_not_adopted": sorted(self.announced),
            "units": {uid: unit_diagnostics(unit, now) for uid, unit in self.units.items()},
            "retained_inputs": {uid: dict(held) for uid, held in self._retained_inputs.items()},
            "republish_pending": self.republisher.pending,
            "telemetry": None if self.telemetry is None else self.telemetry.store.diagnostics(),
        }


def unit_diagnostics(unit: UnitRuntime, now: float) -> Mapping[str, Any]:
    """Return one unit's runtime picture."""
    return {
        "name": unit.identity.name,
        "model": unit.identity.model,
        "announce_id": unit.identity.announce_id,
        "status": unit.status,
        "available": unit.available,
        "state": None if unit.state is None else asdict(unit.state),
        "seconds_since_state": (
            None if unit.last_state_at is None else round(now - unit.last_state_at, 1)
        ),
        "outputs": dict(unit.outputs),
        "inputs": dict(unit.inputs),
        "schema": redact_schema(unit.identity.schema),
        "recent_logs": [asdict(record) for record in unit.logs],
    }
