"""Coalescing of entity state writes for high-rate unit outputs.

A unit may publish far faster than Home Assistant's state machine and recorder should
record. Each entity writes at once when it has not written for ``interval`` seconds;
otherwise its write is deferred to the end of that interval, carrying the newest value.
No value is final-state-lost: the last one always reaches the state machine.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from homeassistant.core import HomeAssistant, callback


class CoalescedEntity(Protocol):
    """An entity the coalescer can write."""

    last_write: float

    def async_write_ha_state(self) -> None:
        """Write the entity's state to the state machine."""


class StateWriteCoalescer:
    """Writes entity states at most once per ``interval`` each."""

    def __init__(self, hass: HomeAssistant, interval: float) -> None:
        """Bind to the event loop; ``interval`` 0 writes every update."""
        self._loop = hass.loop
        self.interval = interval
        self._pending: dict[CoalescedEntity, None] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due = 0.0
        self.deferred = 0
        """How many updates were folded into a later write (for diagnostics)."""

    @callback
    def request(self, entity: CoalescedEntity) -> None:
        """Write ``entity`` now, or at the end of its interval if it wrote recently."""
        if entity in self._pending:
            self.deferred += 1
            return
        now = self._loop.time()
        due = entity.last_write + self.interval
        if now >= due:
            entity.last_write = now
            entity.async_write_ha_state()
            return
        self._pending[entity] = None
        if self._timer is None:
            self._schedule(due)

    @callback
    def discard(self, entity: CoalescedEntity) -> None:
        """Forget a pending write of an entity being removed."""
        self._pending.pop(entity, None)

    def _schedule(self, due: float) -> None:
        self._timer_due = due
        self._timer = self._loop.call_at(due, self._flush)

    @callback
    def _flush(self) -> None:
        self._timer = None
        # asyncio may run a timer up to its clock resolution early: it is due anyway.
        now = max(self._loop.time(), self._timer_due)
        next_due: float | None = None
        for entity in list(self._pending):
            due = entity.last_write + self.interval
            if due <= now:
                del self._pending[entity]
                entity.last_write = now
                entity.async_write_ha_state()
            elif next_due is None or due < next_due:
                next_due = due
        if next_due is not None:
            self._schedule(next_due)

    @callback
    def stop(self) -> None:
        """Cancel the timer; pending writes are dropped with the entities."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._pending.clear()
