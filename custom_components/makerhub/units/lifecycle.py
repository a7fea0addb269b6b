"""Units following the hub entry's unit subentries: loaded at start, added, updated
(renamed, schema changed: entities replaced, set-points fitted) and removed as the
subentries change; the links' ``schema.json`` and the broker's access kept in step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, MutableMapping
import logging
from typing import TYPE_CHECKING, Any, Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)

from ..broker_access.access import BrokerAccess
from ..const import DOMAIN
from ..core.errors import SchemaError
from ..core.protocol import UnitTopics, adopted_topic, announce_topic
from ..core.setpoints import fit_setpoints
from ..core.unit import UnitIdentity, UnitRuntime
from ..links.subentries import async_remove_links_of
from .availability import Availability
from .messages import UnitMessages
from .publisher import UnitPublisher
from .retained import RetainedCopies
from .setpoints import SetpointStore
from .subentries import unit_identity, unit_subentries
from .variables import EntityKey, unit_entity_unique_id, variable_signatures

if TYPE_CHECKING:
    from ..telemetry.manager import HubTelemetry

_LOGGER = logging.getLogger(__package__)


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


type AddUnitEntities = Callable[[UnitRuntime, set[EntityKey] | None], None]
"""Builds and adds a unit's entities (only those of the keys given, if any)."""


class UnitLifecycle:
    """Loads, updates and removes the hub's units."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        *,
        units: dict[str, UnitRuntime],
        subentry_ids: dict[str, str],
        telemetry: HubTelemetry | None,
        broker_access: BrokerAccess,
        setpoints: SetpointStore,
        publisher: UnitPublisher,
        retained: RetainedCopies,
        availability: Availability,
        inbox: UnitMessages,
        add_entities: AddUnitEntities,
        live: Mapping[tuple[str, EntityKey], UnitEntity],
        device_infos: MutableMapping[str, Any],
    ) -> None:
        """Keep ``units`` and ``subentry_ids`` (the hub's own) in step with the entry."""
        self.hass = hass
        self.entry = entry
        self._units = units
        self._subentry_ids = subentry_ids
        self._telemetry = telemetry
        self._broker_access = broker_access
        self._setpoints = setpoints
        self._publisher = publisher
        self._retained = retained
        self._availability = availability
        self._inbox = inbox
        self._add_entities = add_entities
        self._live = live
        self._device_infos = device_infos
        self._reconcile_lock = asyncio.Lock()
        self._stored: dict[str, tuple[str, int]] = {}
        """Per unit, the subentry title and data object last read (to skip re-parsing)."""

    async def async_load(self) -> None:
        """Load the stored set-points and units (before the hub subscribes)."""
        await self._setpoints.async_load()
        stored = unit_subentries(self.entry)
        self._setpoints.keep_only(stored)
        for uid, subentry in stored.items():
            self.load_unit(uid, subentry.subentry_id, subentry.title)
        for uid in self._units:  # what the retained schemas hold, checked later
            self._publisher.published_links[uid] = self._publisher.unit_links(
                uid, self._publisher.prefix
            )

    def load_unit(self, uid: str, subentry_id: str, title: str) -> UnitRuntime | None:
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
            topics=UnitTopics(self._publisher.prefix, uid),
            watch_started=self.hass.loop.time(),
            inputs=self._setpoints.of(uid),
        )
        self._units[uid] = unit
        self._fit_setpoints(unit)
        self._subentry_ids[uid] = subentry_id
        self._stored[uid] = (title, id(subentry.data))
        if identity.announce_id is not None:
            self._inbox.announced.pop(identity.announce_id, None)
        if self._telemetry is not None:
            self._telemetry.register_unit(identity)
        return unit

    async def async_reconcile(self) -> None:
        """Bring units and entities in step with the unit subentries (added, renamed,
        schema changed, removed)."""
        async with self._reconcile_lock:
            stored = unit_subentries(self.entry)
            for uid in set(self._units) - set(stored):
                self._remove_unit(uid)
            for uid, subentry in stored.items():
                unit = self._units.get(uid)
                if unit is None:
                    if (unit := self.load_unit(uid, subentry.subentry_id, subentry.title)) is None:
                        continue
                    self._add_entities(unit, None)
                    self._publisher.publish_schema(unit)
                    self._publisher.hand_over(unit)
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
        if self._telemetry is not None:
            self._telemetry.register_unit(identity)
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
        self._publisher.publish_schema(unit)
        self._retained.queue_stale(unit, schema=False)  # set-points fitted to the new schema

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
                self._publisher.publish(unit.topics.input(change.name), "", retain=True)
            else:
                _LOGGER.info(
                    "Unit %s: set-point %s=%r is now %r (%s)",
                    unit.identity.name, change.name, change.old, change.new, change.reason,
                )  # fmt: skip
        if changes:
            self._setpoints.changed()

    def _remove_unit(self, uid: str) -> None:
        ir.async_delete_issue(self.hass, DOMAIN, f"schema_refused_{uid}")
        unit = self._units.pop(uid)
        self._subentry_ids.pop(uid)
        if self._telemetry is not None:
            self._telemetry.forget_unit(uid)
        self._stored.pop(uid, None)
        self._device_infos.pop(uid, None)
        self._retained.forget(uid)
        self._setpoints.forget(uid)
        self._availability.forget(uid)
        self._inbox.forget(uid)
        topics = unit.topics
        cleared = [topics.sys("status"), topics.sys("schema")]
        self._retained.cleared.update(cleared)
        cleared += [topics.input(name) for name in unit.identity.schema.inputs]
        if (announce_id := unit.identity.announce_id) is not None:
            cleared += [
                announce_topic(self._publisher.prefix, announce_id),
                adopted_topic(self._publisher.prefix, announce_id),
            ]
        for topic in cleared:
            self._publisher.publish(topic, "", retain=True)
        _LOGGER.info("Unit %s (%s) deleted; cleared its retained topics", unit.identity.name, uid)

    async def _async_sync_links(self) -> None:
        """Follow the link subentries: drop links of deleted units, and give every unit
        whose links changed its new ``schema.json`` (and a ``schema_update`` command)."""
        self._publisher.follow_links()
        stored = unit_subentries(self.entry)  # a unit that failed to load keeps its links
        for link in self._publisher.links.links():
            for uid in {link.source, link.target} - set(stored):
                async_remove_links_of(self.hass, self.entry, uid)
        changed = [unit for uid, unit in self._units.items() if self._publisher.links_changed(uid)]
        # Before the units learn new topics: the broker must let them subscribe.
        await self._broker_access.async_sync(self.access_units())
        for unit in changed:
            uid = unit.uid
            self._publisher.publish_schema(unit)
            await self._publisher.async_send_command(unit, "schema_update")
            for (owner, key), entity in self._live.items():
                if owner == uid and key[0] == "in" and entity.hass is not None:
                    entity.async_write_ha_state()
            _LOGGER.debug("Unit %s: links changed, schema.json republished", unit.identity.name)

    def access_units(self) -> dict[str, set[str]]:
        """Return every unit and the outputs of other units it may read."""
        return {
            uid: self._publisher.links.linked_topics(uid, self._publisher.prefix)
            for uid in unit_subentries(self.entry)
        }

    @callback
    def sync_broker_access(self) -> None:
        """Bring the broker's credentials and ACLs in step (in the background)."""
        self.entry.async_create_background_task(
            self.hass, self._broker_access.async_sync(self.access_units()), "makerhub broker access"
        )
