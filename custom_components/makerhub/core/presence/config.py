"""What the engine is told: stations, people's phones, and the tunables."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
import math
from typing import Final

from .distance import check_measured_power
from .errors import PresenceConfigError, PresenceInputError
from .ibeacon import BeaconId

AWAY: Final = "away"
"""How an absent person's station is shown; no station may use this id."""
DEFAULT_MEASURED_POWER: Final = -59
"""dBm at 1 m; what most beacons and the companion app's transmitter advertise."""


@dataclass(frozen=True, slots=True)
class Station:
    """A place in the space, marked by an iBeacon and optionally heard-from by scanners.

    ``beacon`` is the station's own iBeacon, which phones running the companion app's
    Beacon Monitor (and custom apps reporting over HTTP) measure their distance to.
    ``scanners`` are the Bluetooth scanners at the station (Home Assistant's advert
    ``source``: an adapter's or proxy's address) that hear phones' transmitted iBeacons.
    ``measured_power`` is what the station's beacon advertises; phones compute their
    distance from the advert itself, so the engine only validates it.
    """

    id: str
    name: str
    beacon: BeaconId
    measured_power: int = DEFAULT_MEASURED_POWER
    scanners: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        """Check the id, name and measured power."""
        if not self.id or self.id == AWAY:
            raise PresenceConfigError(f"station id must be non-empty and not {AWAY!r}")
        if not self.name:
            raise PresenceConfigError(f"station {self.id!r}: name must not be empty")
        try:
            check_measured_power(self.measured_power)
        except PresenceInputError as err:
            raise PresenceConfigError(f"station {self.id!r}: {err}") from None
        if any(not scanner for scanner in self.scanners):
            raise PresenceConfigError(f"station {self.id!r}: empty scanner id")


@dataclass(frozen=True, slots=True)
class Phone:
    """A person's phone transmitting an iBeacon (the companion app's BLE Transmitter)."""

    beacon: BeaconId
    person: str

    def __post_init__(self) -> None:
        """Check the person id."""
        if not self.person:
            raise PresenceConfigError(f"phone {self.beacon}: person must not be empty")


@dataclass(frozen=True, slots=True)
class PresenceTunables:
    """How the engine weighs evidence; the defaults suit a workshop with benches 3-5 m apart.

    With the defaults, a person standing still between two stations with ±6 dB of RSSI
    noise does not flap, and a walk from one bench to the next is picked up from
    Bluetooth about 2 s (p95 under 3 s) after the person passes the midpoint, with one
    advert a second. Each source's evidence is weighed on top of these by its own rule
    (``SWITCH_RULES`` in the engine; see ``docs/presence.md`` and ``scripts/bench
    presence``).
    """

    environment_factor: float = 2.5
    """Path-loss exponent ``n`` turning RSSI into distance: 2 in free space, 2.5-4 indoors."""
    smoothing: float = 0.5
    """Seconds; time constant of the moving average over each scanner's RSSI readings.

    Kept short: the switch rule below integrates evidence over time itself, and more
    smoothing only delays it (see ``docs/presence.md``).
    """
    distance_smoothing: float = 5.0
    """Seconds; time constant of the slower average behind the distance shown.

    It also picks the station when there is no current one to compare with (arriving,
    or the current station went silent).
    """
    switch_margin: float = 0.5
    """A new station must be nearer by this fraction: ``d_new <= (1 - margin) * d_now``."""
    dwell: float = 1.5
    """Seconds a new station must lead by twice the margin before the person moves there.

    A bigger lead moves them sooner, a smaller one later (never at or below the margin);
    arriving from away takes ``dwell`` seconds of evidence.
    """
    scanner_timeout: float = 10.0
    """Seconds after which a scanner that stopped hearing a phone no longer counts."""
    away_timeout: float = 30.0
    """Seconds without any advert from a person's phone before they count as away."""
    report_ttl: float = 1200.0
    """Seconds a companion-app or HTTP report stays valid; both are sent only on change."""
    min_adverts: int = 2
    """Adverts a scanner must hear before it counts, so one stray advert places nobody."""

    def __post_init__(self) -> None:
        """Check every tunable's range."""
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise PresenceConfigError(f"{item.name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise PresenceConfigError(f"{item.name} must be finite, got {value!r}")
        limits: dict[str, tuple[float, float]] = {
            "environment_factor": (1.0, 6.0),
            "smoothing": (0.0, 60.0),
            "distance_smoothing": (0.0, 600.0),
            "switch_margin": (0.05, 0.9),
            "dwell": (0.0, 120.0),
            "scanner_timeout": (1.0, 3600.0),
            "away_timeout": (1.0, 3600.0),
            "report_ttl": (1.0, 86400.0),
            "min_adverts": (1, 20),
        }
        for name, (low, high) in limits.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise PresenceConfigError(f"{name} must be {low:g} to {high:g}, got {value!r}")
        if not isinstance(self.min_adverts, int):
            raise PresenceConfigError(f"min_adverts must be an integer, got {self.min_adverts!r}")

    @property
    def margin(self) -> float:
        """Return the switch margin as a lead in ``log10(distance)``: ``-log10(1 - m)``."""
        return -math.log10(1.0 - self.switch_margin)


@dataclass(frozen=True, slots=True)
class PresenceConfig:
    """Stations and phones, checked for clashes, with the lookups the hot path needs."""

    stations: tuple[Station, ...]
    phones: tuple[Phone, ...]
    by_id: dict[str, Station]
    by_key: dict[str, Station]
    """Station by beacon key (the companion app's attribute name)."""
    by_scanner: dict[str, str]
    """Station id by scanner id."""
    phone_by_raw: dict[bytes, Phone]
    """Phone by the 20 identity bytes of its advert."""

    @classmethod
    def build(cls, stations: Iterable[Station], phones: Iterable[Phone] = ()) -> PresenceConfig:
        """Check that ids, beacons and scanners are unique, and index them."""
        stations = tuple(stations)
        phones = tuple(phones)
        by_id: dict[str, Station] = {}
        by_key: dict[str, Station] = {}
        by_scanner: dict[str, str] = {}
        for station in stations:
            if station.id in by_id:
                raise PresenceConfigError(f"two stations with id {station.id!r}")
            by_id[station.id] = station
            if (other := by_key.get(station.beacon.key)) is not None:
                raise PresenceConfigError(
                    f"stations {other.id!r} and {station.id!r} share beacon {station.beacon}"
                )
            by_key[station.beacon.key] = station
            for scanner in station.scanners:
                if (owner := by_scanner.get(scanner)) is not None:
                    raise PresenceConfigError(
                        f"scanner {scanner!r} is at both {owner!r} and {station.id!r}"
                    )
                by_scanner[scanner] = station.id
        phone_by_raw: dict[bytes, Phone] = {}
        for phone in phones:
            if (clash := by_key.get(phone.beacon.key)) is not None:
                raise PresenceConfigError(
                    f"{phone.person}'s phone uses the beacon of station {clash.id!r}"
                )
            raw = phone.beacon.to_bytes()
            if (other_phone := phone_by_raw.get(raw)) is not None:
                raise PresenceConfigError(
                    f"{other_phone.person} and {phone.person} have phones with the same "
                    f"beacon {phone.beacon}"
                )
            phone_by_raw[raw] = phone
        return cls(stations, phones, by_id, by_key, by_scanner, phone_by_raw)
