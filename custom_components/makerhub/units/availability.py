"""Whether each unit is available: its status and how long since its last state report.

A unit goes unavailable when it reports ``offline`` or sends no state for the hub's
offline timeout; a periodic check catches the silent ones. Each change is logged once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
import logging
from typing import Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval

from ..core.unit import UnitRuntime

_LOGGER = logging.getLogger(__package__)

AVAILABILITY_CHECK: Final = timedelta(seconds=5)


class Availability:
    """Keeps the units' availability up to date."""

    def __init__(
        self, hass: HomeAssistant, units: Mapping[str, UnitRuntime], offline_timeout: float
    ) -> None:
        """Watch ``units`` (the hub's own mapping); silent ``offline_timeout`` seconds."""
        self.hass = hass
        self._units = units
        self._offline_timeout = offline_timeout
        self._unavailable_logged: set[str] = set()

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Check every unit periodically; return the undo."""
        return async_track_time_interval(
            self.hass, self._check, AVAILABILITY_CHECK, cancel_on_shutdown=True
        )

    @callback
    def _check(self, _now: datetime) -> None:
        for unit in self._units.values():
            self.refresh(unit)

    @callback
    def refresh(self, unit: UnitRuntime) -> None:
        """Update a unit's availability now, logging a change."""
        if not unit.refresh_availability(self.hass.loop.time(), self._offline_timeout):
            return
        if not unit.available:
            self._unavailable_logged.add(unit.uid)
            _LOGGER.info("Unit %s (%s) is unavailable", unit.identity.name, unit.uid)
        elif unit.uid in self._unavailable_logged:
            self._unavailable_logged.discard(unit.uid)
            _LOGGER.info("Unit %s (%s) is back online", unit.identity.name, unit.uid)

    def forget(self, uid: str) -> None:
        """Forget a removed unit."""
        self._unavailable_logged.discard(uid)
