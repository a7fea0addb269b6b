"""Hours the space was active this week and this month, kept in
``.storage/makerhub.active_hours`` (the accumulating counter is the pure
``core/presence/active_time.py``).

The hub's presence tells it each change of the space's state; while the space is active
a checkpoint every minute counts the time so far and saves (atomically: Home Assistant's
storage replaces the file whole), so a killed process loses at most that minute. The
clock is Home Assistant's (``dt_util.now``), which tests freeze and move.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
import logging
from typing import Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..core.presence.active_time import ActiveTime

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = "makerhub.active_hours"
STORAGE_VERSION: Final = 1
CHECKPOINT: Final = timedelta(minutes=1)


class SpaceActiveHours:
    """The space's active time, per week and month, stored."""

    def __init__(self, hass: HomeAssistant, counter: ActiveTime, dropped: int = 0) -> None:
        """Wrap the loaded counter."""
        self.hass = hass
        self.counter = counter
        self.dropped = dropped
        """Stored totals that were malformed and dropped at load."""
        self._store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)
        self._listeners: list[Callable[[], None]] = []
        self._cancel_checkpoint: CALLBACK_TYPE | None = None

    @classmethod
    async def async_load(cls, hass: HomeAssistant) -> SpaceActiveHours:
        """Load the stored totals (malformed ones are logged and dropped)."""
        store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)
        counter, problems = ActiveTime.from_json(await store.async_load() or {})
        for problem in problems:
            _LOGGER.error("Stored active hours dropped: %s", problem)
        return cls(hass, counter, len(problems))

    @property
    def active(self) -> bool:
        """Return whether the space is counted as active now."""
        return self.counter.active_since is not None

    def week_hours(self) -> float:
        """Return the hours active this week so far."""
        return self.counter.week_hours(dt_util.now())

    def month_hours(self) -> float:
        """Return the hours active this month so far."""
        return self.counter.month_hours(dt_util.now())

    @callback
    def observe(self, active: bool) -> None:
        """Take the space's state now; count, save, and checkpoint while it is active."""
        if active == self.active:
            return
        self.counter.observe(active, dt_util.now())
        if active and self._cancel_checkpoint is None:
            self._cancel_checkpoint = async_track_time_interval(
                self.hass, self._checkpoint, CHECKPOINT
            )
        elif not active:
            self._stop_checkpoints()
        self._save()

    @callback
    def _checkpoint(self, _now: datetime) -> None:
        self.counter.checkpoint(dt_util.now())
        self._save()

    @callback
    def stop(self) -> None:
        """Count up to now and stop (the hub unloads: nobody is seen any more)."""
        self.observe(False)
        self._stop_checkpoints()

    def _stop_checkpoints(self) -> None:
        if self._cancel_checkpoint is not None:
            self._cancel_checkpoint()
            self._cancel_checkpoint = None

    def _save(self) -> None:
        """Write now (not after a delay a kill would cut short); tell the listeners."""
        self.hass.async_create_task(
            self._store.async_save(self.counter.to_json()), "makerhub save active hours"
        )
        for listener in list(self._listeners):
            listener()

    @callback
    def add_listener(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``listener`` after every count; return the undo."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)
