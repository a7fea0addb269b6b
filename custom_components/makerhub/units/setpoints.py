"""Where the hub keeps every unit input's desired value: ``.storage/makerhub.setpoints``.

Kept apart from the unit subentries (which hold what a unit *is*): a set-point changes
often, and updating a subentry rewrites every config entry and reconciles the hub.
Written promptly, not only at shutdown: a change after a quiet spell is on disk in the
next turns of the event loop (a few milliseconds), and a stream of changes is written at
most once per ``WRITE_INTERVAL``; the file is replaced atomically and flushed to the disk
(``fsync``), so it survives a crash or a power cut. See ``docs/integration.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
import logging
from typing import Any, Final

from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import Store

from ..core.schema import Direction, Value
from ..core.setpoints import InputValues, Setpoints, WritePacer
from ..core.unit import UnitRuntime

_LOGGER = logging.getLogger(__package__)

STORAGE_KEY: Final = "makerhub.setpoints"
STORAGE_VERSION: Final = 1
WRITE_INTERVAL: Final = 1.0
"""Seconds between two writes while set-points keep changing (a ramp, a slider)."""


def same_value(held: Value | None, value: Value) -> bool:
    """Return whether ``held`` is ``value``, type included (``1`` is not ``True``)."""
    return type(held) is type(value) and held == value


class SetpointStore:
    """The set-points and their file."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Start empty; :meth:`async_load` reads the file."""
        self.hass = hass
        self.setpoints = Setpoints()
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, STORAGE_KEY, atomic_writes=True
        )
        self._pacer = WritePacer(WRITE_INTERVAL)
        self.clock: Callable[[], float] = hass.loop.time
        """Monotonic seconds, for pacing the writes."""
        self._waiting: CALLBACK_TYPE | None = None
        """Cancels the paced write scheduled, if one is."""
        self._changed = False
        """Whether anything changed since the last flush."""
        self._unsub_final_write: CALLBACK_TYPE | None = None

    async def async_load(self) -> None:
        """Read the stored set-points; what cannot be read is logged and dropped."""
        self.setpoints, problems = Setpoints.from_json(await self._store.async_load())
        for problem in problems:
            _LOGGER.error("Stored set-point dropped: %s", problem)
        if problems:
            self.changed()
        self._unsub_final_write = self.hass.bus.async_listen_once(
            EVENT_HOMEASSISTANT_FINAL_WRITE, self._async_final_write
        )

    def of(self, uid: str) -> InputValues:
        """Return a unit's set-points: the stored dictionary itself (call :meth:`changed`
        after changing it)."""
        return self.setpoints.of(uid)

    @callback
    def set_desired(self, unit: UnitRuntime, name: str, value: Value) -> None:
        """Store, and show, an input's desired value."""
        if not same_value(unit.inputs.get(name), value):
            unit.set_value(Direction.INPUT, name, value)
            self.changed()

    @callback
    def forget(self, uid: str) -> None:
        """Drop a unit's set-points (the unit was deleted)."""
        if self.setpoints.forget(uid):
            self.changed()

    @callback
    def keep_only(self, uids: Iterable[str]) -> None:
        """Drop the set-points of every unit but ``uids`` (deleted while the hub was down)."""
        for uid in self.setpoints.units() - set(uids):
            self.forget(uid)

    @callback
    def changed(self) -> None:
        """Write the set-points soon after a change: at once, or with the paced write."""
        self._changed = True
        if self._waiting is not None:
            return  # the write scheduled will take this change too
        if delay := self._pacer.delay(self.clock()):
            self._waiting = async_call_later(self.hass, delay, self._write)
        else:
            self._write()

    @callback
    def _write(self, _now: Any = None) -> None:
        """Hand the set-points to the store, which writes them in the executor now."""
        self._waiting = None
        self._pacer.wrote(self.clock())
        self._store.async_delay_save(self.setpoints.to_json, 0)

    async def async_flush(self) -> None:
        """Write the set-points if they changed, and wait until they are on disk (the hub
        stops, and a reload reads the file next: a write still in flight must be done)."""
        if self._unsub_final_write is not None:
            self._unsub_final_write()
            self._unsub_final_write = None
        await self._async_final_write()

    async def _async_final_write(self, _event: Event | None = None) -> None:
        self._unsub_final_write = None
        if self._waiting is not None:
            self._waiting()
            self._waiting = None
        if self._changed:
            self._changed = False
            await self._store.async_save(self.setpoints.to_json())

    async def async_remove(self) -> None:
        """Delete the file (the hub entry is being removed)."""
        await self._store.async_remove()
