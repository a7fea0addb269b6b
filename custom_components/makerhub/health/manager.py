"""The hub's health: the expected items registered, fed, judged and acted on.

:class:`HubHealth` owns a :class:`~..core.health.HealthMonitor` and one timer, set to the
monitor's next deadline (never a poll per item). At start it registers what the hub
already knows: the broker (Home Assistant's MQTT connection) and, when the hub manages it
with dynamic security, the broker's admin login; the telemetry database (when telemetry is
on); the firmware, desktops and recorder services (when set up: their managers' polls);
each camera the recorder lists (on the recorder); and every adopted unit, a display agent
shown as a display (its state reports, their interval learned; a restart command when it
is connected but silent). Other features add theirs with :meth:`HubHealth.register`.

What must outlive a restart of Home Assistant (announced problems, last failures, learned
intervals) is kept in the store ``makerhub.health``.

Every verdict that changes is fired as ``makerhub_health_problem`` /
``makerhub_health_recovered`` (root causes only), shown by the entities listening to the
item, and turned into repair issues where a person can act.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
import logging
import math
import os
import shutil
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.event import async_call_later, async_track_point_in_utc_time
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from ..broker_access.access import AccessMode, BrokerAccess
from ..cameras.manager import HubCameras
from ..const import DOMAIN
from ..core.displays import is_display
from ..core.health import (
    Changes,
    HealthEvent,
    HealthEventKind,
    HealthMonitor,
    HealthStatus,
    IntervalLearner,
    ItemHealth,
    ItemSpec,
)
from ..core.protocol import STATUS_OFFLINE, STATUS_ONLINE
from ..core.recorder_client import Camera, CameraStatus
from ..core.unit import AVAILABILITY, STATE, UnitRuntime
from ..core.unit_env import DEFAULT_STATE_INTERVAL, MH_STATE_INTERVAL, EnvError
from ..desktops.manager import HubDesktops
from ..devices import camera_device_info
from ..firmware.manager import HubFirmware
from ..telemetry.manager import HubTelemetry
from ..units.hub import MakerhubHub
from .hass_run import HomeAssistantRun

_LOGGER = logging.getLogger(__package__)

EVENT_HEALTH_PROBLEM: Final = "makerhub_health_problem"
EVENT_HEALTH_RECOVERED: Final = "makerhub_health_recovered"

CONF_HEALTH_TIMING: Final = "health_timing"
"""Options: per item id, ``{"period": seconds | None, "grace": seconds}``."""

ITEM_BROKER: Final = "broker"
ITEM_DATABASE: Final = "telemetry_database"
ITEM_FIRMWARE: Final = "firmware_service"
ITEM_DESKTOPS: Final = "desktops_service"
ITEM_RECORDER: Final = "recorder_service"
ITEM_BROKER_ADMIN: Final = "broker_admin"
UNIT_ITEM_PREFIX: Final = "unit:"
CAMERA_ITEM_PREFIX: Final = "camera:"
CAMERA_GRACE: Final = 60.0
"""Seconds a camera may be ``reconnecting`` beyond a poll before it is a problem (the
recorder says ``error`` itself once it is lost for long)."""
STORE_VERSION: Final = 1
STORE_KEY: Final = f"{DOMAIN}.health"
SAVE_DELAY: Final = 10.0
"""Seconds changes are gathered before the store is written (and at Home Assistant's stop)."""
MIN_UNIT_GRACE: Final = 10.0
SERVICE_GRACE: Final = 60.0
TIMER_RESOLUTION: Final = 0.25
"""Seconds: how much later than its deadline a check may run (well within a second)."""
DATABASE_GRACE: Final = 30.0
"""Seconds the telemetry writer may be without its database before it is a problem."""
GIVE_UP_AFTER: Final = 60.0
"""Seconds at least after the last restart attempt before the repair issue says so."""

ISSUE_DATABASE: Final = "health_database_unreachable"
ISSUE_UNRESPONSIVE: Final = "health_unit_unresponsive"
ISSUE_CRASH_LOOP: Final = "health_crash_looping"

UNIQUE_ID_PREFIX: Final = "health-"
PROBLEM_UNIQUE_ID_PREFIX: Final = f"{UNIQUE_ID_PREFIX}problem-"

SYSTEMD_UNITS: Final = {
    ITEM_FIRMWARE: "makerhub-firmware.service",
    ITEM_DESKTOPS: "makerhub-desktops.service",
    ITEM_RECORDER: "makerhub-recorder.service",
}
"""The systemd units ``deploy/systemd`` installs the services as (``scripts/install``);
the polkit rule it installs lets Home Assistant's user restart exactly these."""
SYSTEMCTL: Final = "systemctl"
SYSTEMCTL_TIMEOUT: Final = 30.0


class RestartError(Exception):
    """An item could not be restarted (the message says why)."""


def unit_item_id(uid: str) -> str:
    """Return the health item id of a unit."""
    return f"{UNIT_ITEM_PREFIX}{uid}"


def camera_item_id(camera_id: str) -> str:
    """Return the health item id of a recorder camera."""
    return f"{CAMERA_ITEM_PREFIX}{camera_id}"


_STORES: HassKey[Store[dict[str, Any]]] = HassKey(f"{DOMAIN}_health_store")


def health_store(hass: HomeAssistant) -> Store[dict[str, Any]]:
    """Return the one store of what health keeps across restarts (one instance, so a
    reloaded hub reads what the previous one has not written yet)."""
    if (store := hass.data.get(_STORES)) is None:
        store = hass.data[_STORES] = Store(hass, STORE_VERSION, STORE_KEY)
    return store


class HealthHub(Protocol):
    """What health reads of the units' hub (``units.hub.MakerhubHub``)."""

    @property
    def units(self) -> Mapping[str, UnitRuntime]:
        """The adopted units by uid."""

    @property
    def subentry_ids(self) -> Mapping[str, str]:
        """Each unit's subentry id."""

    def device_info(self, unit: UnitRuntime) -> DeviceInfo:
        """A unit's device."""

    async def async_send_command(self, unit: UnitRuntime, cmd: str, **fields: Any) -> None:
        """Publish a command on a unit's ``sys/cmd`` topic."""


class PolledService(Protocol):
    """A service the hub polls (``HubFirmware``, ``HubDesktops``)."""

    @property
    def coordinator(self) -> DataUpdateCoordinator[Any]:
        """Its poll."""


class CameraSource(Protocol):
    """The recorder's polled cameras (``HubCameras``)."""

    @property
    def coordinator(self) -> DataUpdateCoordinator[Any]:
        """Its poll: data with ``cameras`` by id."""


class BrokerAdmin(Protocol):
    """The broker's admin login outcome (``BrokerAccess`` under dynamic security)."""

    def add_outcome_listener(self, listener: Callable[[str | None], None]) -> CALLBACK_TYPE:
        """Call ``listener`` after each attempt: None when it worked, else the error."""


class UnitEnv(Protocol):
    """Where a unit's ``env.json`` comes from (``HubFirmware``)."""

    def env(self, uid: str) -> dict[str, Any]:
        """A unit's ``env.json``."""


@dataclass(frozen=True, slots=True)
class HealthItem:
    """An expected item and how the hub shows and restarts it."""

    spec: ItemSpec
    device_info: DeviceInfo | None = None
    """The problem sensor's device; None: the hub's device (a service, with its uptime
    and last-failure sensors)."""
    subentry_id: str | None = None
    """The subentry its device belongs to (a unit's)."""
    restart: Callable[[], Awaitable[bool]] | None = None
    """Restart it; returns whether a restart was made (False: not possible now)."""

    @property
    def id(self) -> str:
        """Return the item's id."""
        return self.spec.id

    @property
    def on_hub(self) -> bool:
        """Return whether the item's entities are on the hub's device."""
        return self.device_info is None


def addon_slug(url: str) -> str | None:
    """Return the add-on slug of a service at ``url`` (an add-on's host name is its slug
    with dashes), None for an address that is no add-on's."""
    host = urlsplit(url).hostname or ""
    if not host or "." in host or ":" in host or host == "localhost":
        return None
    return host.replace("-", "_")


async def async_restart_addon(hass: HomeAssistant, slug: str) -> bool:
    """Restart an add-on through the Supervisor (False without one)."""
    if "hassio" not in hass.config.components:
        return False
    from homeassistant.components.hassio.handler import get_supervisor_client

    await get_supervisor_client(hass).addons.restart_addon(slug)
    return True


def under_systemd() -> bool:
    """Return whether Home Assistant runs as a systemd service (the shipped units)."""
    return "INVOCATION_ID" in os.environ and shutil.which(SYSTEMCTL) is not None


async def _systemctl(*args: str) -> tuple[int, str]:
    """Run ``systemctl`` (never asking for a password); return its exit code and output."""
    command = shutil.which(SYSTEMCTL)
    if command is None:
        return 127, f"{SYSTEMCTL} is not installed"
    process = await asyncio.create_subprocess_exec(
        command,
        "--no-ask-password",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(SYSTEMCTL_TIMEOUT):
            output, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        return 124, f"{SYSTEMCTL} {' '.join(args)} took too long"
    return process.returncode or 0, output.decode(errors="replace").strip()


async def async_systemd_unit_loaded(unit: str) -> bool:
    """Return whether systemd knows ``unit`` (False when not run under systemd)."""
    if not under_systemd():
        return False
    code, output = await _systemctl("show", "--property=LoadState", "--value", unit)
    return code == 0 and output == "loaded"


async def async_restart_systemd_unit(unit: str) -> bool:
    """Restart a systemd unit without waiting for it to be up (health judges that)."""
    code, output = await _systemctl("restart", "--no-block", unit)
    if code != 0:
        raise RestartError(f"systemctl restart {unit} failed: {output or code}")
    return True


def _timestamp(value: float | None) -> str | None:
    return None if value is None else dt_util.utc_from_timestamp(value).isoformat()


def event_data(event: HealthEvent) -> dict[str, Any]:
    """Return the data of a health event on the bus (see docs/health.md)."""
    data = event.as_dict()
    data["at"] = _timestamp(event.at)
    data["since"] = _timestamp(event.since)
    data["down_for"] = round(event.at - event.since, 1)
    return data


class HubHealth:
    """The hub's expected items, judged by the health monitor (see the module)."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        hub: HealthHub,
        *,
        telemetry_connected: Callable[[], bool] | None,
        telemetry_coordinator: DataUpdateCoordinator[Any] | None,
        firmware: PolledService | None,
        firmware_env: UnitEnv | None,
        desktops: PolledService | None,
        service_urls: Mapping[str, str] | None = None,
        recorder: CameraSource | None = None,
        broker_admin: BrokerAdmin | None = None,
    ) -> None:
        """Prepare; nothing is watched until :meth:`async_start`."""
        self.hass = hass
        self.entry = entry
        self.hub = hub
        self.monitor = HealthMonitor()
        self.items: dict[str, HealthItem] = {}
        self._telemetry_connected = telemetry_connected
        self._telemetry_coordinator = telemetry_coordinator
        self._firmware = firmware
        self._firmware_env = firmware_env
        self._desktops = desktops
        self._recorder = recorder
        self._broker_admin = broker_admin
        self._store = health_store(hass)
        self._saved: dict[str, dict[str, Any]] = {}
        """Per item, what the store held at start (given back when it is registered)."""
        self._learned: dict[str, float] = {}
        """Per unit item, the state interval learned from its reports."""
        self._learners: dict[str, IntervalLearner] = {}
        self._service_urls = dict(service_urls or {})
        self._systemd: dict[str, str] = {}
        """The services run as systemd units here (item id → unit), found at start."""
        self._timing: dict[str, dict[str, Any]] = dict(entry.options.get(CONF_HEALTH_TIMING, {}))
        self._item_listeners: dict[str, list[Callable[[], None]]] = {}
        self._summary_listeners: list[Callable[[], None]] = []
        self._adders: list[Callable[[HealthItem], None]] = []
        self._unit_undo: dict[str, list[CALLBACK_TYPE]] = {}
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._timer: CALLBACK_TYPE | None = None
        self._scheduled: float | None = None
        self._started = False
        self.hass_run = HomeAssistantRun(self, lambda spec: self.register(HealthItem(spec)))

    # -- the registry other features call ---------------------------------------------

    @staticmethod
    def now() -> float:
        """Return the time health runs on (UTC seconds; frozen in tests)."""
        return dt_util.utcnow().timestamp()

    @callback
    def register(self, item: HealthItem) -> None:
        """Expect an item (again); its entities are added if the platforms are set up."""
        spec = item.spec
        if (timing := self._timing.get(spec.id)) is not None:
            spec = ItemSpec(
                spec.id,
                spec.name,
                spec.kind,
                timing.get("period", spec.period),
                float(timing.get("grace", spec.grace)),
                spec.parent,
                spec.restartable,
            )
            item = HealthItem(spec, item.device_info, item.subentry_id, item.restart)
        new = spec.id not in self.items
        self.items[spec.id] = item
        changes = self.monitor.register(spec, self.now())
        if new and (saved := self._saved.get(spec.id)) is not None:
            self.monitor.restore(spec.id, saved)
            changes.changed.add(spec.id)
        self._apply(changes)
        if new:
            for add in self._adders:
                add(item)

    @callback
    def unregister(self, item_id: str) -> None:
        """Stop expecting an item; its entities and issues go."""
        if self.items.pop(item_id, None) is None:
            return
        self._apply(self.monitor.unregister(item_id, self.now()))
        self._saved.pop(item_id, None)
        self._learned.pop(item_id, None)
        self._learners.pop(item_id, None)
        registry = er.async_get(self.hass)
        for entity in er.async_entries_for_config_entry(registry, self.entry.entry_id):
            if entity.unique_id.startswith(UNIQUE_ID_PREFIX) and entity.unique_id.endswith(
                f"-{item_id}"
            ):
                registry.async_remove(entity.entity_id)
        for issue in (ISSUE_UNRESPONSIVE, ISSUE_CRASH_LOOP):
            ir.async_delete_issue(self.hass, DOMAIN, f"{issue}_{item_id}")
        self._item_listeners.pop(item_id, None)

    @callback
    def heartbeat(self, item_id: str) -> None:
        """An item proved it is alive (an item that learns its interval learns from it)."""
        now = self.now()
        changes = self.monitor.heartbeat(item_id, now)
        if changes.changed or changes.events or changes.restarts:
            self._apply(changes)
        if (learner := self._learners.get(item_id)) is not None and item_id in self.monitor:
            learned = learner.observe(now, self.monitor.period(item_id))
            if learned is not None:
                _LOGGER.debug("%s reports every %.1f s", item_id, learned)
                self._learned[item_id] = learned
                grace = max(learned, MIN_UNIT_GRACE)
                changes = self.monitor.set_timing(item_id, learned, grace, now)
                changes.changed.add(item_id)  # its period is shown
                self._apply(changes)

    @callback
    def report(self, item_id: str, ok: bool, reason: str = "", at: float | None = None) -> None:
        """An item said it works or fails (``at``: when, if not now)."""
        if not ok and (learner := self._learners.get(item_id)) is not None:
            learner.forget()  # the gap until it is back is no interval
        self._apply(self.monitor.report(item_id, ok, self.now() if at is None else at, reason))

    def health(self, item_id: str) -> ItemHealth | None:
        """Return an item's health (None: not expected)."""
        return self.monitor.health(item_id) if item_id in self.monitor else None

    # -- what entities listen to ------------------------------------------------------

    @callback
    def add_item_listener(self, item_id: str, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``listener`` when an item's health changes; return the undo."""
        listeners = self._item_listeners.setdefault(item_id, [])
        listeners.append(listener)

        def remove() -> None:
            if listener in listeners:
                listeners.remove(listener)

        return remove

    @callback
    def add_summary_listener(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``listener`` when any item's health changes; return the undo."""
        self._summary_listeners.append(listener)
        return lambda: self._summary_listeners.remove(listener)

    @callback
    def add_entities_per_item(self, add: Callable[[HealthItem], None]) -> None:
        """Call ``add`` for every item now and for each registered later."""
        self._adders.append(add)
        for item in list(self.items.values()):
            add(item)

    # -- lifecycle ----------------------------------------------------------------------

    async def async_start(self) -> None:
        """Register what the hub knows and start watching it."""
        stored = await self._store.async_load() or {}
        self._saved = dict(stored.get("items", {}))
        self._learned = {
            item_id: float(period)
            for item_id, period in stored.get("learned", {}).items()
            if isinstance(period, int | float) and period > 0
        }
        self._systemd = {
            item_id: unit
            for item_id, unit in SYSTEMD_UNITS.items()
            if item_id not in self._service_urls or addon_slug(self._service_urls[item_id]) is None
            if await async_systemd_unit_loaded(unit)
        }
        self._started = True
        self._watch_broker()
        self._watch_broker_admin()
        self._watch_telemetry()
        self._watch_service(ITEM_FIRMWARE, "Firmware service", self._firmware, 300.0)
        self._watch_service(ITEM_DESKTOPS, "Desktops service", self._desktops, 30.0)
        self._watch_service(ITEM_RECORDER, "Recorder service", self._recorder, 15.0)
        self._watch_cameras()
        self.units_changed()
        await self.hass_run.async_start()
        self._remove_stale_entities()

    @callback
    def async_stop(self) -> None:
        """Stop watching and the timer."""
        if self._started:
            self._store.async_delay_save(self._to_store, SAVE_DELAY)
        self._started = False
        self.hass_run.async_stop()
        while self._unsubscribe:
            self._unsubscribe.pop()()
        for undo in self._unit_undo.values():
            for remove in undo:
                remove()
        self._unit_undo.clear()
        if self._timer is not None:
            self._timer()
            self._timer = None
            self._scheduled = None

    @callback
    def test_alert(self) -> None:
        """Fire a problem event flagged as a test."""
        event = self.monitor.test_event(self.now())
        _LOGGER.info("Makerhub test alert fired")
        self.hass.bus.async_fire(EVENT_HEALTH_PROBLEM, event_data(event))

    @callback
    def retry(self, item_id: str) -> None:
        """Start an item's restarts over and restart it now (the repair's fix)."""
        self.monitor.restart_done(item_id)
        ir.async_delete_issue(self.hass, DOMAIN, f"{ISSUE_UNRESPONSIVE}_{item_id}")
        if (item := self.items.get(item_id)) is not None and item.restart is not None:
            self.entry.async_create_background_task(
                self.hass, self._async_restart(item, 1, 1), f"makerhub restart {item_id}"
            )

    def item_of_entity(self, entity_id: str) -> HealthItem | None:
        """Return the item whose problem sensor ``entity_id`` is (None: no such sensor)."""
        entry = er.async_get(self.hass).async_get(entity_id)
        if (
            entry is None
            or entry.platform != DOMAIN
            or entry.config_entry_id != self.entry.entry_id
            or not entry.unique_id.startswith(PROBLEM_UNIQUE_ID_PREFIX)
        ):
            return None
        return self.items.get(entry.unique_id.removeprefix(PROBLEM_UNIQUE_ID_PREFIX))

    async def async_restart_now(self, item: HealthItem) -> None:
        """Restart an item now through its restart path, its restart attempts started
        over; raise :class:`RestartError` when it cannot be restarted now."""
        if item.restart is None:
            raise RestartError("nothing can restart it")
        try:
            restarted = await item.restart()
        except RestartError:
            raise
        except Exception as err:
            raise RestartError(str(err) or type(err).__name__) from err
        if not restarted:
            if item.spec.kind in ("unit", "display"):
                raise RestartError(
                    "it is not connected to the broker, so it cannot be sent its restart command"
                )
            raise RestartError("its restart path is not available now")
        _LOGGER.warning("Restarted %s on request", item.spec.name)
        self.monitor.restart_done(item.id)
        ir.async_delete_issue(self.hass, DOMAIN, f"{ISSUE_UNRESPONSIVE}_{item.id}")

    # -- the watched parts ----------------------------------------------------------------

    def _watch_broker(self) -> None:
        self.register(HealthItem(ItemSpec(ITEM_BROKER, "Broker", "broker")))

        @callback
        def on_connection(connected: bool) -> None:
            self.report(ITEM_BROKER, connected, "" if connected else "the MQTT connection is lost")

        self._unsubscribe.append(mqtt.async_subscribe_connection_status(self.hass, on_connection))
        on_connection(mqtt.is_connected(self.hass))

    def _watch_broker_admin(self) -> None:
        """The admin login the hub makes to the broker's dynamic security (its own
        client, apart from Home Assistant's MQTT connection); judged by each sync."""
        admin = self._broker_admin
        if admin is None:
            return
        self.register(
            HealthItem(
                ItemSpec(ITEM_BROKER_ADMIN, "Broker admin login", "broker", parent=ITEM_BROKER)
            )
        )

        @callback
        def on_outcome(error: str | None) -> None:
            self.report(ITEM_BROKER_ADMIN, error is None, error or "")

        self._unsubscribe.append(admin.add_outcome_listener(on_outcome))

    def _watch_cameras(self) -> None:
        """Each camera the recorder lists, on the recorder: ``recording`` and ``idle``
        are heartbeats, ``error`` (lost for long) a failure, ``reconnecting`` neither."""
        recorder = self._recorder
        if recorder is None:
            return
        coordinator = recorder.coordinator
        period = (
            coordinator.update_interval.total_seconds()
            if coordinator.update_interval is not None
            else 15.0
        )

        @callback
        def on_poll() -> None:
            if not coordinator.last_update_success or coordinator.data is None:
                return
            cameras: Mapping[str, Camera] = coordinator.data.cameras
            for item_id in [i for i in self.items if i.startswith(CAMERA_ITEM_PREFIX)]:
                if item_id.removeprefix(CAMERA_ITEM_PREFIX) not in cameras:
                    self.unregister(item_id)
            for camera in cameras.values():
                item_id = camera_item_id(camera.id)
                if item_id not in self.items:
                    self.register(
                        HealthItem(
                            ItemSpec(
                                item_id,
                                camera.name,
                                "camera",
                                period=period,
                                grace=CAMERA_GRACE,
                                parent=ITEM_RECORDER,
                            ),
                            device_info=camera_device_info(
                                camera.id, camera.name, camera.kind, camera.serial
                            ),
                        )
                    )
                if camera.status is CameraStatus.ERROR:
                    self.report(item_id, False, camera.last_error or "the camera is lost")
                elif camera.status is not CameraStatus.RECONNECTING:
                    self.heartbeat(item_id)

        self._unsubscribe.append(coordinator.async_add_listener(on_poll))
        on_poll()

    def _watch_telemetry(self) -> None:
        connected = self._telemetry_connected
        coordinator = self._telemetry_coordinator
        if connected is None or coordinator is None:
            return
        self.register(
            HealthItem(
                ItemSpec(ITEM_DATABASE, "Telemetry database", "database", grace=DATABASE_GRACE)
            )
        )
        waiting: list[CALLBACK_TYPE] = []
        """The check that a lost connection is still lost a grace later (the writer
        connects in the background at start, and reconnects by itself)."""

        @callback
        def check(_now: datetime) -> None:
            waiting.clear()
            if connected():
                self.report(ITEM_DATABASE, True)
            else:
                self.report(ITEM_DATABASE, False, "the database cannot be reached")

        @callback
        def on_counters() -> None:
            if connected():
                while waiting:
                    waiting.pop()()
                self.report(ITEM_DATABASE, True)
            elif not waiting:
                waiting.append(async_call_later(self.hass, DATABASE_GRACE, check))

        @callback
        def stop_waiting() -> None:
            while waiting:
                waiting.pop()()

        self._unsubscribe.append(coordinator.async_add_listener(on_counters))
        self._unsubscribe.append(stop_waiting)
        on_counters()

    def _watch_service(
        self, item_id: str, name: str, service: PolledService | None, period: float
    ) -> None:
        if service is None:
            return
        coordinator = service.coordinator
        if coordinator.update_interval is not None:
            period = coordinator.update_interval.total_seconds()
        restart = None
        if (slug := addon_slug(self._service_urls.get(item_id, ""))) is not None:

            async def restart() -> bool:
                return await async_restart_addon(self.hass, slug)

        elif (unit := self._systemd.get(item_id)) is not None:

            async def restart() -> bool:
                return await async_restart_systemd_unit(unit)

        self.register(
            HealthItem(
                ItemSpec(
                    item_id,
                    name,
                    "service",
                    period=period,
                    grace=SERVICE_GRACE,
                    restartable=restart is not None,
                ),
                restart=restart,
            )
        )

        @callback
        def on_poll() -> None:
            if coordinator.last_update_success:
                self.heartbeat(item_id)
            else:
                error = coordinator.last_exception
                self.report(item_id, False, str(error) if error else "its poll failed")

        self._unsubscribe.append(coordinator.async_add_listener(on_poll))
        if coordinator.data is not None or not coordinator.last_update_success:
            on_poll()

    @callback
    def units_changed(self) -> None:
        """Follow the adopted units: register new ones, unregister removed ones."""
        if not self._started:
            return
        units = self.hub.units
        for uid in set(self._unit_undo) - set(units):
            for remove in self._unit_undo.pop(uid):
                remove()
            self.unregister(unit_item_id(uid))
        for uid, unit in units.items():
            if uid not in self._unit_undo:
                self._watch_unit(unit)
        for item_id in [i for i in self._saved if i.startswith(UNIT_ITEM_PREFIX)]:
            if item_id.removeprefix(UNIT_ITEM_PREFIX) not in units:  # deleted meanwhile
                del self._saved[item_id]
                self._learned.pop(item_id, None)

    def _state_interval(self, uid: str) -> float:
        if self._firmware_env is not None:
            try:
                env = self._firmware_env.env(uid)
                return float(env.get(MH_STATE_INTERVAL, DEFAULT_STATE_INTERVAL))
            except (EnvError, KeyError, TypeError, ValueError) as err:
                _LOGGER.debug("Unit %s: its state interval is not known (%s)", uid, err)
        return float(DEFAULT_STATE_INTERVAL)

    def _watch_unit(self, unit: UnitRuntime) -> None:
        uid = unit.uid
        item_id = unit_item_id(uid)
        period = self._learned.get(item_id) or self._state_interval(uid)
        if item_id not in self._timing:  # a period set in the options is not learned
            self._learners[item_id] = IntervalLearner()

        async def restart() -> bool:
            return await self._async_restart_unit(uid)

        self.register(
            HealthItem(
                ItemSpec(
                    item_id,
                    unit.identity.name,
                    "display" if is_display(unit.identity.schema) else "unit",
                    period=period,
                    grace=max(period, MIN_UNIT_GRACE),
                    parent=ITEM_BROKER,
                    restartable=True,
                ),
                device_info=self.hub.device_info(unit),
                subentry_id=self.hub.subentry_ids.get(uid),
                restart=restart,
            )
        )

        @callback
        def on_state() -> None:
            self.heartbeat(item_id)

        @callback
        def on_availability() -> None:
            if unit.status == STATUS_OFFLINE:
                self.report(item_id, False, "it reported offline")

        self._unit_undo[uid] = [
            unit.add_listener(STATE, on_state),
            unit.add_listener(AVAILABILITY, on_availability),
        ]
        if unit.state is not None and unit.available:
            self.heartbeat(item_id)
        elif unit.status == STATUS_OFFLINE:
            on_availability()

    async def _async_restart_unit(self, uid: str) -> bool:
        unit = self.hub.units.get(uid)
        if unit is None or unit.status != STATUS_ONLINE:
            _LOGGER.info(
                "Unit %s is not sent a restart: it is not connected",
                uid if unit is None else unit.identity.name,
            )
            return False
        await self.hub.async_send_command(unit, "restart")
        return True

    def _remove_stale_entities(self) -> None:
        """Drop health entities of items no longer expected (telemetry turned off, …)."""
        registry = er.async_get(self.hass)
        fixed = ("health-summary", "health-test_alert")
        for entity in er.async_entries_for_config_entry(registry, self.entry.entry_id):
            unique_id = entity.unique_id
            if not unique_id.startswith(UNIQUE_ID_PREFIX) or unique_id in fixed:
                continue
            if unique_id.split("-", 2)[-1] not in self.items:
                registry.async_remove(entity.entity_id)

    # -- acting on verdicts ---------------------------------------------------------------

    @callback
    def _apply(self, changes: Changes) -> None:
        for event in changes.events:
            self._announce(event)
        for request in changes.restarts:
            if (item := self.items.get(request.item)) is not None and item.restart is not None:
                self.entry.async_create_background_task(
                    self.hass,
                    self._async_restart(item, request.attempt, request.limit),
                    f"makerhub restart {request.item}",
                )
        if changes.changed or changes.events:
            self._store.async_delay_save(self._to_store, SAVE_DELAY)
        for item_id in changes.changed:
            self._issues(item_id)
            for listener in list(self._item_listeners.get(item_id, ())):
                listener()
        if changes.changed:
            for listener in list(self._summary_listeners):
                listener()
        self._schedule()

    def _to_store(self) -> dict[str, Any]:
        """Return what outlives a restart: the monitor's snapshot, and the items saved
        at start that are not registered (yet: a camera before the recorder's poll)."""
        snapshot = self.monitor.snapshot()
        items = {k: v for k, v in self._saved.items() if k not in self.items}
        items.update(snapshot)
        return {"items": items, "learned": dict(self._learned)}

    def _announce(self, event: HealthEvent) -> None:
        if event.kind is HealthEventKind.PROBLEM:
            _LOGGER.warning("Health problem: %s", event.message)
            item = self.items.get(event.item)
            if item is not None and item.spec.kind == "service" and item.restart is None:
                _LOGGER.info(
                    "%s is not an add-on Makerhub can restart: its service manager "
                    "(systemd's restart policy) restarts it",
                    item.spec.name,
                )
            self.hass.bus.async_fire(EVENT_HEALTH_PROBLEM, event_data(event))
        else:
            _LOGGER.info("Health recovered: %s", event.message)
            self.hass.bus.async_fire(EVENT_HEALTH_RECOVERED, event_data(event))

    async def _async_restart(self, item: HealthItem, attempt: int, limit: int) -> None:
        try:
            restarted = await item.restart() if item.restart is not None else False
        except Exception as err:  # noqa: BLE001 (a failed restart is reported, not raised)
            _LOGGER.error("Could not restart %s: %s", item.spec.name, err)
            restarted = False
        if restarted:
            _LOGGER.warning(
                "Restarted %s, which stopped working (attempt %d of %d)",
                item.spec.name,
                attempt,
                limit,
            )
        if restarted and attempt >= limit:
            # The last attempt: if it does not work one heartbeat and grace later, a
            # person has to look.
            wait = (item.spec.period or 0.0) + item.spec.grace

            @callback
            def give_up(_now: datetime) -> None:
                self._give_up(item)

            self.entry.async_on_unload(
                async_call_later(self.hass, max(wait, GIVE_UP_AFTER), give_up)
            )

    @callback
    def _give_up(self, item: HealthItem) -> None:
        health = self.health(item.id)
        if health is None or health.status is not HealthStatus.PROBLEM:
            return
        _LOGGER.error("%s still does not work after %d restarts", item.spec.name, health.restarts)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            f"{ISSUE_UNRESPONSIVE}_{item.id}",
            is_fixable=True,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_UNRESPONSIVE,
            translation_placeholders={"name": item.spec.name, "restarts": str(health.restarts)},
            data={"item": item.id, "name": item.spec.name},
        )

    def _issues(self, item_id: str) -> None:
        health = self.health(item_id)
        if health is None:
            return
        if item_id == ITEM_DATABASE:
            if health.status is HealthStatus.PROBLEM:
                ir.async_create_issue(
                    self.hass,
                    DOMAIN,
                    ISSUE_DATABASE,
                    is_fixable=False,
                    severity=ir.IssueSeverity.ERROR,
                    translation_key=ISSUE_DATABASE,
                    translation_placeholders={"message": health.message},
                )
            else:
                ir.async_delete_issue(self.hass, DOMAIN, ISSUE_DATABASE)
        if health.status is HealthStatus.HEALTHY:
            ir.async_delete_issue(self.hass, DOMAIN, f"{ISSUE_UNRESPONSIVE}_{item_id}")
        crash_issue = f"{ISSUE_CRASH_LOOP}_{item_id}"
        if health.crash_looping and health.status is HealthStatus.PROBLEM:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                crash_issue,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=ISSUE_CRASH_LOOP,
                translation_placeholders={"name": health.name},
            )
        elif health.status is HealthStatus.HEALTHY:
            ir.async_delete_issue(self.hass, DOMAIN, crash_issue)

    @callback
    def _schedule(self) -> None:
        """Wake at the monitor's next deadline, rounded up to :data:`TIMER_RESOLUTION`
        so that deadlines close together are checked in one wake-up."""
        deadline = self.monitor.next_deadline()
        if deadline is not None:
            deadline = math.ceil(deadline / TIMER_RESOLUTION) * TIMER_RESOLUTION
        if deadline == self._scheduled:
            return
        if self._timer is not None:
            self._timer()
            self._timer = None
        self._scheduled = deadline
        if deadline is None or not self._started:
            self._scheduled = None
            return
        self._timer = async_track_point_in_utc_time(
            self.hass, self._on_timer, dt_util.utc_from_timestamp(deadline)
        )

    @callback
    def _on_timer(self, _now: datetime) -> None:
        fired_for = self._scheduled or 0.0
        self._timer = None
        self._scheduled = None
        self._apply(self.monitor.tick(max(self.now(), fired_for)))


def create_health(
    hass: HomeAssistant,
    entry: ConfigEntry,
    hub: MakerhubHub,
    *,
    telemetry: HubTelemetry | None,
    firmware: HubFirmware,
    desktops: HubDesktops,
    cameras: HubCameras,
    broker_access: BrokerAccess,
) -> HubHealth:
    """Return the hub's health, watching what this hub has set up."""
    urls = {}
    if firmware.client is not None:
        urls[ITEM_FIRMWARE] = firmware.client.base_url
    if desktops.client is not None:
        urls[ITEM_DESKTOPS] = desktops.client.base_url
    if cameras.client is not None:
        urls[ITEM_RECORDER] = cameras.client.base_url
    return HubHealth(
        hass,
        entry,
        hub,
        telemetry_connected=(
            None if telemetry is None else lambda: telemetry.store.counters.connected
        ),
        telemetry_coordinator=None if telemetry is None else telemetry.coordinator,
        firmware=firmware if firmware.client is not None else None,
        firmware_env=firmware,
        desktops=desktops if desktops.client is not None else None,
        service_urls=urls,
        recorder=cameras if cameras.client is not None else None,
        broker_admin=(broker_access if broker_access.mode is AccessMode.DYNAMIC_SECURITY else None),
    )
