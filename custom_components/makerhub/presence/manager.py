"""Presence in Home Assistant: stations from subentries, readings in, changes out.

The engine is the pure core (``core/presence``). This module builds it from the hub's
station and phone subentries, feeds it the companion app's Beacon Monitor sensors (of the
phones behind each person's device trackers), the phones' iBeacons heard over Bluetooth
and the ``POST /api/makerhub/presence`` reports, lets time pass at the engine's own
deadlines, and turns its station changes into the ``makerhub_station_changed`` event,
retained MQTT messages and entity updates (the ``SIGNAL_PRESENCE`` dispatcher signal). The
report endpoint itself is ``view.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
import logging
import time
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import (
    async_call_later,
    async_track_state_change_event,
    async_track_time_interval,
)

from ..subentries import subentries_of

if TYPE_CHECKING:
    from homeassistant.components import bluetooth

from ..const import (
    CONF_PRESENCE_REQUIRE_PROJECT,
    CONF_PRESENCE_TUNABLES,
    DATA_AREA,
    DATA_DEVICE,
    DATA_DISPLAY,
    DATA_MAJOR,
    DATA_MEASURED_POWER,
    DATA_MINOR,
    DATA_PERSON,
    DATA_SCANNERS,
    DATA_UUID,
    DOMAIN,
    EVENT_STATION_CHANGED,
    SUBENTRY_PHONE,
    SUBENTRY_STATION,
)
from ..core.presence import (
    APPLE_COMPANY_ID,
    AWAY,
    STATE_MONITORING,
    BeaconId,
    Phone,
    PresenceEngine,
    PresenceInputError,
    PresenceTunables,
    Station,
    StationChange,
    parse_ibeacon,
    parse_presence_report,
)
from ..core.presence.active_time import ActiveTime
from ..devices import station_device_id
from .active_hours import SpaceActiveHours

_LOGGER = logging.getLogger(__package__)

SIGNAL_PRESENCE: Final = "makerhub_presence_changed"
"""Dispatcher signal: some person's station or the space changed."""
PERSON_DOMAIN: Final = "person"
BEACON_MONITOR_SUFFIX: Final = "_beacon_monitor"
SCANNER_POLL: Final = timedelta(seconds=1)
IBEACON_PREFIX: Final = [0x02, 0x15]
"""Bytes a presence report may have; a real one is under 200."""


def now() -> float:
    """Return the engine's clock: monotonic, so wall-clock jumps move nobody."""
    return time.monotonic()


def wall_time(moment: float) -> float:
    """Return the Unix time of a moment on the engine's clock."""
    return time.time() - (now() - moment)


def station_from_subentry(subentry: ConfigSubentry) -> Station:
    """Return the station a subentry describes; raise PresenceConfigError/InputError."""
    data = subentry.data
    return Station(
        id=subentry.subentry_id,
        name=subentry.title,
        beacon=BeaconId(data[DATA_UUID], data[DATA_MAJOR], data[DATA_MINOR]),
        measured_power=data[DATA_MEASURED_POWER],
        scanners=frozenset(data.get(DATA_SCANNERS, ())),
    )


def presence_tunables(entry: ConfigEntry) -> PresenceTunables:
    """Return the engine's tunables: the defaults, with the options' changes."""
    return PresenceTunables(**entry.options.get(CONF_PRESENCE_TUNABLES, {}))


def station_subentries(entry: ConfigEntry) -> list[ConfigSubentry]:
    """Return the hub's station subentries."""
    return subentries_of(entry, SUBENTRY_STATION)


def phone_subentries(entry: ConfigEntry) -> list[ConfigSubentry]:
    """Return the hub's phone subentries."""
    return subentries_of(entry, SUBENTRY_PHONE)


def phone_from_subentry(subentry: ConfigSubentry) -> Phone | None:
    """Return the transmitting phone a subentry describes, if it names a beacon."""
    data = subentry.data
    if not data.get(DATA_UUID):
        return None
    return Phone(BeaconId(data[DATA_UUID], data[DATA_MAJOR], data[DATA_MINOR]), data[DATA_PERSON])


def person_name(hass: HomeAssistant, person: str) -> str:
    """Return a person's name (their entity id while they have no state)."""
    state = hass.states.get(person)
    return state.name if state is not None else person


def person_of_user(hass: HomeAssistant, user_id: str | None) -> str | None:
    """Return the person entity linked to a Home Assistant user, if any."""
    if user_id is None:
        return None
    for state in hass.states.async_all(PERSON_DOMAIN):
        if state.attributes.get("user_id") == user_id:
            return state.entity_id
    return None


def person_slug(person: str) -> str:
    """Return the topic level of a person: ``person.alice`` → ``alice``."""
    return person.removeprefix(f"{PERSON_DOMAIN}.")


class HubPresence:
    """The presence engine of the hub, fed and ticked by Home Assistant."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        prefix: str,
        hours: SpaceActiveHours | None = None,
    ) -> None:
        """Build the engine from the station subentries (nothing is listened to yet);
        ``hours`` counts the time the space is active (a counter of its own without)."""
        self.hass = hass
        self.hours = hours or SpaceActiveHours(hass, ActiveTime())
        self.entry = entry
        self.prefix = prefix
        self.stations = [station_from_subentry(s) for s in station_subentries(entry)]
        self.require_project = bool(entry.options.get(CONF_PRESENCE_REQUIRE_PROJECT, False))
        self.phones = [
            phone
            for subentry in phone_subentries(entry)
            if (phone := phone_from_subentry(subentry)) is not None
        ]
        self.engine = PresenceEngine(self.stations, self.phones, tunables=presence_tunables(entry))
        self._phone_people = {phone.beacon: phone.person for phone in self.phones}
        self._addresses: set[str] = set()
        """Bluetooth addresses that carried a phone's iBeacon (polled for every scanner)."""
        self.names = {station.id: station.name for station in self.stations}
        self.displays: dict[str, str] = {
            s.subentry_id: s.data[DATA_DISPLAY]
            for s in station_subentries(entry)
            if s.data.get(DATA_DISPLAY)
        }
        """Station id → the device showing things there."""
        self.people: set[str] = set()
        """Every person Home Assistant knows, and everyone the engine has seen."""
        self._person_listeners: list[Callable[[str], None]] = []
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._monitors: dict[str, str] = {}
        """Beacon Monitor sensor entity id → person."""
        self._cancel_monitors: CALLBACK_TYPE | None = None
        self._cancel_tick: CALLBACK_TYPE | None = None
        self._space_active: bool | None = None

    # -- lifecycle ------------------------------------------------------------------------

    @callback
    def async_start(self) -> None:
        """Place the stations' devices in their areas; follow people and their phones."""
        devices = dr.async_get(self.hass)
        for subentry in station_subentries(self.entry):
            area = subentry.data.get(DATA_AREA)
            device = devices.async_get_device(
                identifiers={(DOMAIN, station_device_id(subentry.subentry_id))}
            )
            if area and device is not None and device.area_id is None:
                devices.async_update_device(device.id, area_id=area)
        for state in self.hass.states.async_all(PERSON_DOMAIN):
            if state.entity_id not in self.people:
                self._add_person(state.entity_id)
        self._follow_monitors()
        self._unsubscribe.append(
            self.hass.bus.async_listen("state_changed", self._on_any_state, self._is_person)
        )
        if self.phones and "bluetooth" in self.hass.config.components:
            from homeassistant.components import bluetooth  # only where it is set up

            self._unsubscribe += [
                bluetooth.async_register_callback(
                    self.hass,
                    self._on_advert,
                    bluetooth.BluetoothCallbackMatcher(
                        manufacturer_id=APPLE_COMPANY_ID,
                        manufacturer_data_start=IBEACON_PREFIX,
                        connectable=False,  # phones' beacons: every scanner, proxies too
                    ),
                    bluetooth.BluetoothScanningMode.PASSIVE,
                ),
                async_track_time_interval(self.hass, self._poll_scanners, SCANNER_POLL),
            ]
        self._publish_space()

    @callback
    def async_stop(self) -> None:
        """Stop listening and ticking; stop counting active time."""
        self.hours.stop()
        while self._unsubscribe:
            self._unsubscribe.pop()()
        for cancel in (self._cancel_monitors, self._cancel_tick):
            if cancel is not None:
                cancel()
        self._cancel_monitors = self._cancel_tick = None

    @callback
    def add_person_listener(self, listener: Callable[[str], None]) -> CALLBACK_TYPE:
        """Call ``listener(person)`` when a person appears; return the undo."""
        self._person_listeners.append(listener)
        return lambda: self._person_listeners.remove(listener)

    @callback
    def add_entities_per_person(
        self,
        entry: ConfigEntry,
        add_entities: AddConfigEntryEntitiesCallback,
        build: Callable[[str], Entity],
    ) -> None:
        """Add ``build(person)`` for everyone known now and for each person who appears
        later (until the entry unloads)."""
        add_entities([build(person) for person in sorted(self.people)])
        entry.async_on_unload(
            self.add_person_listener(lambda person: add_entities([build(person)]))
        )

    # -- sources --------------------------------------------------------------------------

    @staticmethod
    @callback
    def _is_person(data: Mapping[str, Any]) -> bool:
        return str(data["entity_id"]).startswith(f"{PERSON_DOMAIN}.")

    @callback
    def _on_any_state(self, event: Event[EventStateChangedData]) -> None:
        """A person appeared, went or changed trackers: follow their phones again."""
        person = event.data["entity_id"]
        if event.data["new_state"] is not None and person not in self.people:
            self._add_person(person)
        self._follow_monitors()

    def _add_person(self, person: str) -> None:
        self.people.add(person)
        for listener in self._person_listeners:
            listener(person)

    def beacon_monitors(self) -> dict[str, str]:
        """Return, per Beacon Monitor sensor, the person whose phone it is on.

        A phone belongs to the people whose ``device_trackers`` include one of its
        entities (the companion app's device tracker): that is how Home Assistant's own
        person integration already knows whose phone it is.
        """
        registry = er.async_get(self.hass)
        monitors: dict[str, str] = {}

        def add(device_id: str | None, person: str) -> None:
            if device_id is None:
                return
            for candidate in er.async_entries_for_device(registry, device_id):
                if candidate.domain == "sensor" and candidate.entity_id.endswith(
                    BEACON_MONITOR_SUFFIX
                ):
                    monitors[candidate.entity_id] = person

        for state in self.hass.states.async_all(PERSON_DOMAIN):
            for tracker in state.attributes.get("device_trackers", ()):
                if (entry := registry.async_get(tracker)) is not None:
                    add(entry.device_id, state.entity_id)
        for subentry in phone_subentries(self.entry):  # set by the user: they win
            add(subentry.data.get(DATA_DEVICE), subentry.data[DATA_PERSON])
        return monitors

    @callback
    def _follow_monitors(self) -> None:
        monitors = self.beacon_monitors()
        if monitors == self._monitors:
            return
        self._monitors = monitors
        if self._cancel_monitors is not None:
            self._cancel_monitors()
        self._cancel_monitors = async_track_state_change_event(
            self.hass, list(monitors), self._on_monitor
        )
        for entity_id in monitors:
            if (state := self.hass.states.get(entity_id)) is not None:
                self._take_monitor(entity_id, state.state, state.attributes)

    @callback
    def _on_monitor(self, event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        if new is not None:
            self._take_monitor(event.data["entity_id"], new.state, new.attributes)

    def _take_monitor(self, entity_id: str, state: str, attributes: Mapping[str, Any]) -> None:
        if state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            return  # the phone is out of touch: its last reading stands until it expires
        person = self._monitors[entity_id]
        reading = attributes if state == STATE_MONITORING else {}
        try:
            changes = self.engine.observe_beacon_monitor(person, reading, now())
        except PresenceInputError as err:
            _LOGGER.debug("Ignored %s: %s", entity_id, err)
            return
        self.apply(changes, person)

    @callback
    def _on_advert(
        self, info: bluetooth.BluetoothServiceInfoBleak, _change: bluetooth.BluetoothChange
    ) -> None:
        """A scanner heard an iBeacon: if it is a phone's, take it and poll its address."""
        try:
            advert = parse_ibeacon(info.manufacturer_data)
        except PresenceInputError as err:
            _LOGGER.debug("Ignored an advert from %s: %s", info.address, err)
            return
        person = None if advert is None else self._phone_people.get(advert.beacon)
        if person is None:
            return  # some other iBeacon
        self._addresses.add(info.address)
        self._take_advert(info.source, info.manufacturer_data, info.rssi, info.time, person)

    @callback
    def _poll_scanners(self, _now: Any) -> None:
        """Feed every scanner's latest advert of each phone address.

        Home Assistant calls back only when an advert changes and only for the scanner it
        prefers, so the other scanners' readings are polled (each with the time that
        scanner heard it: a reading fed twice counts once).
        """
        from homeassistant.components import bluetooth  # loaded: it calls back

        for address in list(self._addresses):
            devices = bluetooth.async_scanner_devices_by_address(
                self.hass, address, connectable=False
            )
            if not devices:
                self._addresses.discard(address)
            for device in devices:
                # Remote scanners (ESPHome, Shelly proxies) keep a time per address.
                timestamps = getattr(device.scanner, "discovered_device_timestamps", None)
                heard = None if timestamps is None else timestamps.get(address)
                if heard is not None:
                    advert = device.advertisement
                    self._take_advert(
                        device.scanner.source, advert.manufacturer_data, advert.rssi, heard, None
                    )

    def _take_advert(
        self,
        scanner: str,
        manufacturer_data: Mapping[int, bytes],
        rssi: float,
        at: float,
        person: str | None,
    ) -> None:
        try:
            changes = self.engine.observe_advert(scanner, manufacturer_data, rssi, at)
        except PresenceInputError as err:
            _LOGGER.debug("Ignored an advert from %s: %s", scanner, err)
            return
        self.apply(changes, person)

    def report(self, person: str, body: object) -> tuple[StationChange, ...]:
        """Take an HTTP report for ``person``; raise PresenceInputError if it is bad."""
        report = parse_presence_report(body)
        changes = self.engine.observe_http(person, report, now())
        self.apply(changes, person)
        return changes

    # -- changes --------------------------------------------------------------------------

    def station_name(self, station: str | None) -> str:
        """Return a station's name, or ``away``."""
        return AWAY if station is None else self.names.get(station, station)

    @callback
    def apply(self, changes: Iterable[StationChange], person: str | None = None) -> None:
        """Announce changes (event, MQTT, entities) and schedule the next tick."""
        if person is not None and person not in self.people:
            self._add_person(person)
        for change in changes:
            self.hass.bus.async_fire(
                EVENT_STATION_CHANGED,
                {
                    "person": change.person,
                    "from": self.station_name(change.from_station),
                    "to": self.station_name(change.to_station),
                    "cause": change.cause.value,
                    "source": None if change.source is None else change.source.value,
                    "distance": change.distance,
                },
            )
            self._publish(
                f"{self.prefix}/space/people/{person_slug(change.person)}/station",
                self.station_name(change.to_station),
            )
        self._publish_space()
        async_dispatcher_send(self.hass, SIGNAL_PRESENCE)
        self._schedule()

    @property
    def space_active(self) -> bool:
        """Return whether the space is active (someone present, with a project if asked)."""
        return self.engine.space().is_active(require_project=self.require_project)

    def _publish_space(self) -> None:
        active = self.space_active
        self.hours.observe(active)
        if active != self._space_active:
            self._space_active = active
            self._publish(f"{self.prefix}/space/active", "true" if active else "false")

    def _publish(self, topic: str, payload: str) -> None:
        if not mqtt.is_connected(self.hass):
            return
        self.entry.async_create_background_task(
            self.hass,
            mqtt.async_publish(self.hass, topic, payload, 1, True),
            f"makerhub presence {topic}",
        )

    def _schedule(self) -> None:
        if self._cancel_tick is not None:
            self._cancel_tick()
            self._cancel_tick = None
        deadline = self.engine.next_deadline()
        if deadline is not None:
            self._cancel_tick = async_call_later(self.hass, max(0.0, deadline - now()), self._tick)

    @callback
    def _tick(self, _now: Any) -> None:
        self._cancel_tick = None
        self.apply(self.engine.tick(now()))

    def diagnostics(self) -> dict[str, Any]:
        """Return the engine's picture for diagnostics."""
        return {
            "stations": {s.id: {"name": s.name, "beacon": s.beacon.key} for s in self.stations},
            "beacon_monitors": dict(self._monitors),
            "people": {
                p.person: {
                    "station": self.station_name(p.station),
                    "distance": p.distance,
                    "source": None if p.source is None else p.source.value,
                }
                for p in self.engine.people()
            },
            "stats": self.engine.stats.as_dict(),
            "active_hours": {
                **self.hours.counter.to_json(),
                "active": self.hours.active,
                "dropped_at_load": self.hours.dropped,
            },
        }
