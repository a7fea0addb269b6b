"""The hub: Makerhub's units on MQTT inside Home Assistant, kept in step with the hub
entry's unit and link subentries.

:class:`MakerhubHub` is the coordinator: it holds the units and their entities, and loads,
updates and removes units as the unit subentries change (their retained ``schema.json``,
set-points and broker access included). Its parts each do one job: the message path
(``messages.py``), what it publishes (``publisher.py``), the broker's retained copies
(``retained.py``), availability (``availability.py``); diagnostics read it
(``diagnostics.py``).

It is one part of the runtime (``runtime.py``): it is given telemetry, broker access and
the set-point store, and knows entities only as :class:`UnitEntity`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
import logging
from typing import TYPE_CHECKING, Any, Protocol

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
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
from ..core.errors import SchemaError
from ..core.links import LinkRegistry
from ..core.protocol import DEFAULT_PREFIX, UnitTopics, adopted_topic, announce_topic
from ..core.schema import Direction, Value
from ..core.setpoints import fit_setpoints
from ..core.unit import UnitIdentity, UnitRuntime
from ..links.subentries import async_remove_links_of
from .availability import Availability
from .coalesce import StateWriteCoalescer
from .messages import UnitMessages, unit_by_announce_id
from .publisher import QOS, UnitPublisher
from .retained import RetainedCopies
from .setpoints import SetpointStore
from .subentries import unit_identity, unit_subentries
from .variables import (
    LEVEL_DIRECTION,
    EntityKey,
    parse_unit_entity_unique_id,
    unit_entity_unique_id,
    variable_signatures,
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
        self._reconcile_lock = asyncio.Lock()
        self._stored: dict[str, tuple[str, int]] = {}
        """Per unit, the subentry title and data object last read (to skip re-parsing)."""

    @property
    def links(self) -> LinkRegistry:
        """The links stored in the hub's subentries, as last reconciled."""
        return self.publisher.links

    # -- lifecycle --------------------------------------------------------------------

    async def async_start(self) -> None:
        """Load stored units and set-points, subscribe, and check later that the broker
        holds every unit's ``schema.json`` and set-points."""
        await self.setpoints.async_load()
        stored = unit_subentries(self.entry)
        self.setpoints.keep_only(stored)
        for uid, subentry in stored.items():
            self._load_unit(uid, subentry.subentry_id, subentry.title)
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
        for unit in self.units.values():  # what the retained schemas hold, checked later
            self.publisher.published_links[unit.uid] = self.publisher.unit_links(
                unit.uid, self.prefix
            )
        self._sync_broker_access()

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
        info = DeviceInfo(
            identifiers={(DOMAIN, identity.uid)},
            name=identity.name,
            manufacturer="Makerhub",
            model=identity.model or identity.schema.name,
            serial_number=identity.uid,
        )
        if version is not None:
            info["sw_version"] = version
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
        return unit_by_announce_id(self.units, announce_id)

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
                    self.publisher.publish_schema(unit)
                    self.publisher.hand_over(unit)
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
        self.publisher.publish_schema(unit)
        self.retained.queue_stale(unit, schema=False)  # set-points fitted to the new schema

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
                self.publisher.publish(unit.topics.input(change.name), "", retain=True)
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
        self.retained.forget(uid)
        self.setpoints.forget(uid)
        self.availability.forget(uid)
        self.inbox.forget(uid)
        topics = unit.topics
        cleared = [topics.sys("status"), topics.sys("schema")]
        self.retained.cleared.update(cleared)
        cleared += [topics.input(name) for name in unit.identity.schema.inputs]
        if (announce_id := unit.identity.announce_id) is not None:
            cleared += [
                announce_topic(self.prefix, announce_id),
                adopted_topic(self.prefix, announce_id),
            ]
        for topic in cleared:
            self.publisher.publish(topic, "", retain=True)
        _LOGGER.info("Unit %s (%s) deleted; cleared its retained topics", unit.identity.name, uid)

    # -- links, broker access, inputs and commands --------------------------------------

    async def _async_sync_links(self) -> None:
        """Follow the link subentries: drop links of deleted units, and give every unit
        whose links changed its new ``schema.json`` (and a ``schema_update`` command)."""
        self.publisher.follow_links()
        stored = unit_subentries(self.entry)  # a unit that failed to load keeps its links
        for link in self.links.links():
            for uid in {link.source, link.target} - set(stored):
                async_remove_links_of(self.hass, self.entry, uid)
        changed = [unit for uid, unit in self.units.items() if self.publisher.links_changed(uid)]
        # Before the units learn new topics: the broker must let them subscribe.
        await self.broker_access.async_sync(self._access_units())
        for unit in changed:
            uid = unit.uid
            self.publisher.publish_schema(unit)
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
            self.publisher.publish_command(unit, "schema_update")

    async def async_set_input(self, unit: UnitRuntime, name: str, value: Value) -> None:
        """Store an input's desired value, show it at once and publish it (retained).

        Stored first: should the publish fail, the value goes out when the broker is back.
        """
        variable = unit.identity.schema.inputs[name]
        text = variable.encode(value)
        self.setpoints.set_desired(unit, name, variable.decode(text))
        await self.publisher.async_publish_retained(unit.topics.input(name), text)
