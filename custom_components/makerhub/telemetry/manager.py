"""Telemetry in Home Assistant: the store's lifecycle, what the hub feeds it, its counters.

The store itself is the pure core (``core/telemetry``); this module reads the hub's
options, decrypts the DSN, starts and stops the store with the entry (and flushes it when
Home Assistant stops), polls the writer's counters for the diagnostic entities, and drops
telemetry's entities when telemetry is off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
import logging
from pathlib import Path
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from ..const import (
    CONF_TELEMETRY_DSN,
    CONF_TELEMETRY_RETENTION_DAYS,
    CONF_TELEMETRY_ROLLUPS,
    DEFAULT_TELEMETRY_RETENTION_DAYS,
    DEFAULT_TELEMETRY_ROLLUPS,
    DOMAIN,
    HUB_DEVICE_ID,
)
from ..core.schema import Direction, Value
from ..core.secret_box import SecretBoxError
from ..core.telemetry import (
    Dsn,
    DsnError,
    RetentionPolicy,
    TelemetryConfig,
    TelemetryStore,
    WriterCounters,
    WriterSettings,
    sample_variable,
)
from ..core.telemetry.ingest import Handler, TelemetryIngest
from ..core.unit import UnitIdentity
from ..secrets import CONTEXT_TELEMETRY_DSN, async_get_secret_box, open_text
from .ingest import async_start_ingest

_LOGGER = logging.getLogger(__package__)

"""What the encrypted DSN is bound to (a token copied elsewhere does not decrypt)."""
SPILL_FILE: Final = ".storage/makerhub_telemetry.spill"
COUNTERS_INTERVAL: Final = timedelta(seconds=10)
STOP_GRACE: Final = 10.0
"""Seconds the writer gets at shutdown before what is left goes to the spill file."""
ISSUE_DSN_LOST: Final = "telemetry_dsn_lost"
TELEMETRY_UNIQUE_ID_PREFIXES: Final = (f"{HUB_DEVICE_ID}-telemetry-", f"{HUB_DEVICE_ID}-aggregate-")
"""The unique ids of telemetry's entities: its counters and the aggregate sensors."""


@dataclass(frozen=True, slots=True)
class TelemetryOptions:
    """The hub's telemetry options, with the DSN decrypted."""

    dsn: Dsn
    retention_days: int = DEFAULT_TELEMETRY_RETENTION_DAYS
    rollups: bool = DEFAULT_TELEMETRY_ROLLUPS

    def config(self, spill_path: Path) -> TelemetryConfig:
        """Return the store's configuration."""
        return TelemetryConfig(
            dsn=self.dsn,
            spill_path=spill_path,
            writer=WriterSettings(rollups=self.rollups),
            retention=RetentionPolicy(default_days=self.retention_days),
        )


async def async_telemetry_options(
    hass: HomeAssistant, entry: ConfigEntry
) -> TelemetryOptions | None:
    """Return the telemetry options, or None when telemetry is off or cannot be unlocked.

    A DSN that no longer decrypts (the key file was lost or replaced) raises a repair
    issue asking to enter it again; the hub runs on without telemetry meanwhile.
    """
    token = entry.options.get(CONF_TELEMETRY_DSN)
    if not token:
        ir.async_delete_issue(hass, DOMAIN, ISSUE_DSN_LOST)
        return None
    box = await async_get_secret_box(hass)
    try:
        dsn = Dsn(open_text(box, token, CONTEXT_TELEMETRY_DSN))
    except (SecretBoxError, DsnError, UnicodeDecodeError) as err:
        _LOGGER.error("Telemetry is off: the stored database URL cannot be used (%s)", err)
        ir.async_create_issue(
            hass,
            DOMAIN,
            ISSUE_DSN_LOST,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_DSN_LOST,
        )
        return None
    ir.async_delete_issue(hass, DOMAIN, ISSUE_DSN_LOST)
    return TelemetryOptions(
        dsn=dsn,
        retention_days=int(
            entry.options.get(CONF_TELEMETRY_RETENTION_DAYS, DEFAULT_TELEMETRY_RETENTION_DAYS)
        ),
        rollups=bool(entry.options.get(CONF_TELEMETRY_ROLLUPS, DEFAULT_TELEMETRY_ROLLUPS)),
    )


@callback
def _remove_telemetry_entities(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Drop the telemetry entities of a hub running without telemetry."""
    entities = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(entities, entry.entry_id):
        if entity.unique_id.startswith(TELEMETRY_UNIQUE_ID_PREFIXES):
            entities.async_remove(entity.entity_id)


class HubTelemetry:
    """The hub's telemetry store, started and stopped with the hub entry."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, store: TelemetryStore) -> None:
        """Wrap a store that is not started yet."""
        self.hass = hass
        self.store = store
        self.submit = store.submit
        self.coordinator: DataUpdateCoordinator[WriterCounters] = DataUpdateCoordinator(
            hass,
            _LOGGER,
            config_entry=entry,
            name="Makerhub telemetry",
            update_interval=COUNTERS_INTERVAL,
            update_method=self._async_counters,
            always_update=False,
        )
        self._stopped = False
        self.ingest: TelemetryIngest | None = None
        """Telemetry's own broker session; while it runs, output values come from it."""
        self._entry = entry

    @classmethod
    async def async_create(cls, hass: HomeAssistant, entry: ConfigEntry) -> HubTelemetry | None:
        """Return the hub's telemetry, started, or None when it is off."""
        options = await async_telemetry_options(hass, entry)
        if options is None:
            _remove_telemetry_entities(hass, entry)
            return None
        store = TelemetryStore(options.config(Path(hass.config.path(SPILL_FILE))))
        telemetry = cls(hass, entry, store)
        await store.start()  # succeeds with the database down: the writer buffers
        entry.async_on_unload(
            hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, telemetry._async_on_hass_stop)
        )
        await telemetry.coordinator.async_refresh()
        return telemetry

    async def _async_counters(self) -> WriterCounters:
        return self.store.counters

    async def _async_on_hass_stop(self, _event: Event) -> None:
        """Flush what is buffered (or spill it) before Home Assistant exits."""
        await self.async_stop()

    async def async_start_ingest(self, prefix: str, handle: Handler) -> None:
        """Take output values from telemetry's own persistent session (when HA's MQTT
        entry allows one): ``handle`` decodes a message and submits it."""
        self.ingest = await async_start_ingest(
            self.hass, self._entry, prefix, self.store.writer, handle
        )

    async def async_stop(self) -> None:
        """Stop the store once: write what it can, spill the rest.

        The own session takes no more values first, and disconnects only once the
        writer is done, so every value it took is acknowledged.
        """
        if self._stopped:
            return
        self._stopped = True
        if self.ingest is not None:
            self.ingest.pause()
        await self.store.stop(STOP_GRACE)
        if self.ingest is not None:
            await self.ingest.stop()
        counters = self.store.counters
        _LOGGER.debug(
            "Telemetry stopped: %d written, %d spilled for later, %d dropped",
            counters.written,
            counters.spilled,
            counters.dropped,
        )

    @callback
    def register_unit(self, identity: UnitIdentity) -> None:
        """Record a unit's name and its variables' types (for typing and for Grafana)."""
        self.store.register_unit(identity.uid, identity.name, identity.schema, model=identity.model)

    @callback
    def forget_unit(self, uid: str) -> None:
        """Stop typing a deleted unit's values; its history stays."""
        self.store.forget_unit(uid)

    @callback
    def submit_input(self, identity: UnitIdentity, name: str, value: Value) -> None:
        """Record an input's new desired value."""
        self.submit(identity.uid, sample_variable(identity.schema, Direction.INPUT, name), value)
