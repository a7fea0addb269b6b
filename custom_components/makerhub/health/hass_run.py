"""Home Assistant as a health item: an unclean stop found at the next start.

The run marker (``core.hass_run``) is kept in ``.storage/makerhub.run``: written at start,
stamped every :data:`~..core.hass_run.ALIVE_PERIOD`, marked clean when Home Assistant
stops or the hub is unloaded. Found unclean at start, the item gets one problem (at the
time Home Assistant died) once Home Assistant has started, and one recovery
:data:`RUNNING_AGAIN_AFTER` later, through the same path as every item: the
``makerhub_health_problem`` / ``makerhub_health_recovered`` events, its problem and
last-failure entities. A clean restart gives neither.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
import logging
from typing import Any, Final, Protocol

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from ..core.hass_run import ALIVE_PERIOD, MarkerError, RunMarker, parse_marker, unclean_stop
from ..core.health import ItemSpec

_LOGGER = logging.getLogger(__package__)

ITEM_HOME_ASSISTANT: Final = "home_assistant"
STORAGE_KEY: Final = "makerhub.run"
STORAGE_VERSION: Final = 1
RUN_STORE: HassKey[Store[dict[str, Any]]] = HassKey(STORAGE_KEY)
"""One store per Home Assistant: a reloaded hub reads what the unloaded one just saved
(its pending write) rather than the file that may not be written yet."""
ANNOUNCE_AFTER: Final = 1.0
"""Seconds after Home Assistant has started before the problem is fired: automations
attach their triggers when it has started, so they hear it."""
RUNNING_AGAIN_AFTER: Final = 10.0
"""Seconds after the problem before the recovery: the alert blueprint has sent its
message and waits for the recovery by then."""


def stopped_unexpectedly(died_at: float) -> str:
    """Return the problem's reason (its time in Home Assistant's time zone)."""
    at = dt_util.as_local(dt_util.utc_from_timestamp(died_at)).strftime("%Y-%m-%d %H:%M:%S")
    return f"stopped unexpectedly at {at} (power cut or crash)"


class RunHealth(Protocol):
    """What the item needs of the hub's health (``manager.HubHealth``)."""

    hass: HomeAssistant

    def now(self) -> float:
        """The time health runs on."""

    def report(self, item_id: str, ok: bool, reason: str = "", at: float | None = None) -> None:
        """An item said it works or fails (``at``: when, if not now)."""


class HomeAssistantRun:
    """Home Assistant's own health item, judged from the previous run's marker."""

    def __init__(self, health: RunHealth, register: Callable[[ItemSpec], None]) -> None:
        """Prepare; nothing is read or written until :meth:`async_start`, which expects
        the item with ``register``."""
        self.health = health
        self.hass = health.hass
        self._register = register
        if (store := self.hass.data.get(RUN_STORE)) is None:
            store = self.hass.data[RUN_STORE] = Store(self.hass, STORAGE_VERSION, STORAGE_KEY)
        self._store = store
        self._marker: RunMarker | None = None
        """This run's marker; None once marked clean."""
        self._started = 0.0
        self._unannounced: RunMarker | None = None
        """The previous run's marker while its unclean stop is not yet announced."""
        self._undo: list[CALLBACK_TYPE] = []
        self._stop_listener: CALLBACK_TYPE | None = None

    async def async_start(self) -> None:
        """Register the item, judge the previous run, start this run's marker."""
        previous = await self._async_previous()
        now = self.health.now()
        self._register(ItemSpec(ITEM_HOME_ASSISTANT, "Home Assistant", "home_assistant"))
        self._started = now
        self._marker = RunMarker(now, now)
        await self._store.async_save(self._marker.as_dict())
        self._undo.append(
            async_track_time_interval(self.hass, self._stamp, timedelta(seconds=ALIVE_PERIOD))
        )
        self._stop_listener = self.hass.bus.async_listen_once(
            EVENT_HOMEASSISTANT_STOP, self._on_stop
        )
        died_at = unclean_stop(previous, now)
        if died_at is None:
            self.health.report(ITEM_HOME_ASSISTANT, True)
            return
        _LOGGER.warning("Home Assistant %s", stopped_unexpectedly(died_at))
        self._unannounced = previous
        died: float = died_at

        @callback
        def started(_hass: HomeAssistant) -> None:
            self._later(ANNOUNCE_AFTER, lambda: self._announce(died))

        self._undo.append(async_at_started(self.hass, started))

    @callback
    def async_stop(self) -> None:
        """Stop stamping and mark the run clean (Home Assistant stops, or the hub is
        unloaded); an unclean stop not yet announced is kept for the next start."""
        if (marker := self._marker) is not None:
            self._marker = None
            if self._unannounced is None:
                marker = RunMarker(marker.started, self.health.now(), clean=True)
            else:
                marker = self._unannounced
            # Eager: the store holds the data before a reloaded hub reads it.
            self.hass.async_create_task(self._store.async_save(marker.as_dict()), eager_start=True)
        while self._undo:
            self._undo.pop()()
        if self._stop_listener is not None:
            self._stop_listener()
            self._stop_listener = None

    async def _async_previous(self) -> RunMarker | None:
        data = await self._store.async_load()  # a file that is no JSON: None (HA moves it)
        if data is None:
            return None
        try:
            return parse_marker(data)
        except MarkerError as err:
            _LOGGER.warning(
                "The run marker of the previous run is damaged (%s): whether Home "
                "Assistant stopped cleanly is not known",
                err,
            )
            return None

    @callback
    def _later(self, delay: float, action: Callable[[], None]) -> None:
        @callback
        def run(_now: datetime) -> None:
            action()

        self._undo.append(async_call_later(self.hass, delay, run))

    @callback
    def _announce(self, died_at: float) -> None:
        self._unannounced = None
        self.health.report(ITEM_HOME_ASSISTANT, False, stopped_unexpectedly(died_at), at=died_at)
        self._later(RUNNING_AGAIN_AFTER, lambda: self.health.report(ITEM_HOME_ASSISTANT, True))

    @callback
    def _stamp(self, _now: datetime) -> None:
        # Stamps stop with the run (its timer is undone when it is marked clean).
        self._marker = RunMarker(self._started, self.health.now())
        self.hass.async_create_task(self._store.async_save(self._marker.as_dict()))

    @callback
    def _on_stop(self, _event: Event) -> None:
        self._stop_listener = None  # it fired: nothing to remove
        self.async_stop()
