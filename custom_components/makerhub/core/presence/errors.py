"""Why presence input was refused or ignored: the keys of the engine's counters."""

from __future__ import annotations

from enum import StrEnum


class PresenceInputReason(StrEnum):
    """Why an observation was refused; each refusal is counted under its reason."""

    MALFORMED_BEACON = "malformed_beacon"
    """An iBeacon advert, beacon key or beacon object that does not parse."""
    UNKNOWN_STATION = "unknown_station"
    """A report naming a beacon that is no configured station."""
    BAD_DISTANCE = "bad_distance"
    """A distance that is negative."""
    NOT_FINITE = "not_finite"
    """A number that is NaN or infinite (distance, RSSI or time)."""
    BAD_RSSI = "bad_rssi"
    """An RSSI outside what a radio can report."""
    BAD_MEASURED_POWER = "bad_measured_power"
    """A measured power (RSSI at 1 m) that is not negative."""
    WRONG_TYPE = "wrong_type"
    """A value of the wrong type: a string where a number belongs, a list for an object."""
    BAD_PERSON = "bad_person"
    """An empty person id."""
    BAD_PROJECT = "bad_project"
    """A project that is not a short string."""
    MISSING_FIELD = "missing_field"
    """A report without a field it needs (``beacon``, ``distance``)."""
    UNKNOWN_FIELD = "unknown_field"
    """A report with a field the format does not have (often a typo)."""


class IgnoredReason(StrEnum):
    """Why a well-formed observation had no effect; normal traffic, counted for diagnostics."""

    NOT_IBEACON = "not_ibeacon"
    """Manufacturer data without an iBeacon (other Apple adverts, other companies)."""
    UNKNOWN_PHONE = "unknown_phone"
    """An iBeacon that is no person's phone (stations' own beacons, neighbours' tags)."""
    UNKNOWN_SCANNER = "unknown_scanner"
    """A Bluetooth scanner that belongs to no station."""
    UNKNOWN_BEACON = "unknown_beacon"
    """A beacon in a companion-app reading that is no station."""
    DUPLICATE = "duplicate"
    """A scanner sample already seen (same scanner, same time or older)."""
    BEFORE_EXIT = "before_exit"
    """Evidence older than the person's explicit exit."""


class PresenceInputError(ValueError):
    """An observation the presence engine refuses; ``reason`` is the counter key."""

    def __init__(self, reason: PresenceInputReason, message: str) -> None:
        """Keep the reason category next to the human message."""
        super().__init__(message)
        self.reason = reason


class PresenceConfigError(ValueError):
    """A station, phone or tunable that cannot be used; the message says which and why."""
