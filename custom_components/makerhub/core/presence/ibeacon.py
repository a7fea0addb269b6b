"""iBeacon identities and adverts: Apple manufacturer data, and the companion app's keys.

An iBeacon advert is Apple manufacturer data (company id 76, ``0x004C``) whose first item
is type ``0x02`` with length ``0x15`` (21 bytes): a 16-byte proximity UUID, a big-endian
major and minor, and the measured power (RSSI at 1 m) as a signed byte.

A beacon's key is the attribute name the Home Assistant companion app's Android "Beacon
Monitor" sensor uses: ``<uuid>_<major>_<minor>`` with the UUID in lowercase 8-4-4-4-12 form
and major and minor in decimal (the app joins AltBeacon's identifier strings with ``_``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import re
from typing import Final
from uuid import UUID

from .errors import PresenceInputError, PresenceInputReason

APPLE_COMPANY_ID: Final = 0x004C
IBEACON_TYPE: Final = 0x02
IBEACON_DATA_LENGTH: Final = 0x15
IBEACON_PREFIX: Final = bytes((IBEACON_TYPE, IBEACON_DATA_LENGTH))
IBEACON_PAYLOAD_LENGTH: Final = 2 + IBEACON_DATA_LENGTH
"""Bytes of Apple manufacturer data an iBeacon item takes: type, length, 21 data bytes."""
IDENTITY_SLICE: Final = slice(2, 22)
"""Where uuid, major and minor sit in the manufacturer data; the raw identity key."""
MEASURED_POWER_INDEX: Final = 22
MAX_MAJOR_MINOR: Final = 0xFFFF

_KEY_SHAPE: Final = re.compile(r"([0-9A-Fa-f-]{32,36})_([0-9]+)_([0-9]+)")
_CANONICAL_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _malformed(message: str) -> PresenceInputError:
    return PresenceInputError(PresenceInputReason.MALFORMED_BEACON, message)


def _check_major_minor(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _malformed(f"{name} must be an integer, got {type(value).__name__}")
    if not 0 <= value <= MAX_MAJOR_MINOR:
        raise _malformed(f"{name} must be 0 to {MAX_MAJOR_MINOR}, got {value}")
    return value


@dataclass(frozen=True, slots=True)
class BeaconId:
    """One iBeacon identity; the UUID is kept in canonical lowercase dashed form.

    Construct with any UUID spelling :class:`uuid.UUID` accepts; it is normalised so that
    equal identities compare and hash equal.
    """

    uuid: str
    major: int
    minor: int

    def __post_init__(self) -> None:
        """Normalise the UUID and check major and minor."""
        if not isinstance(self.uuid, str):
            raise _malformed(f"uuid must be a string, got {type(self.uuid).__name__}")
        if _CANONICAL_UUID.fullmatch(self.uuid) is None:
            try:
                canonical = str(UUID(self.uuid))
            except ValueError:
                raise _malformed(f"uuid {self.uuid!r} is not a UUID") from None
            object.__setattr__(self, "uuid", canonical)
        _check_major_minor("major", self.major)
        _check_major_minor("minor", self.minor)

    @property
    def key(self) -> str:
        """Return the companion app's attribute name for this beacon."""
        return f"{self.uuid}_{self.major}_{self.minor}"

    def __str__(self) -> str:
        """Render as the beacon key."""
        return self.key

    @classmethod
    def from_key(cls, key: str) -> BeaconId:
        """Parse a beacon key ``<uuid>_<major>_<minor>``; raise if it is not one."""
        beacon = parse_beacon_key(key)
        if beacon is None:
            raise _malformed(f"{key!r} is not a beacon key <uuid>_<major>_<minor>")
        return beacon

    @classmethod
    def from_bytes(cls, raw: bytes) -> BeaconId:
        """Build from the 20 identity bytes of an advert: uuid, major, minor."""
        if len(raw) != 20:
            raise _malformed(f"an iBeacon identity is 20 bytes, got {len(raw)}")
        uuid = str(UUID(bytes=raw[:16]))
        return cls(uuid, int.from_bytes(raw[16:18]), int.from_bytes(raw[18:20]))

    def to_bytes(self) -> bytes:
        """Return the 20 identity bytes as they appear in an advert."""
        return UUID(self.uuid).bytes + self.major.to_bytes(2) + self.minor.to_bytes(2)


def parse_beacon_key(name: str) -> BeaconId | None:
    """Return the beacon an attribute name stands for, or None if the name is no beacon key.

    A name shaped like a key (``<uuid>_<digits>_<digits>``) whose parts are invalid raises
    :class:`PresenceInputError`; other names (``friendly_name``, ``options``) give None.
    """
    match = _KEY_SHAPE.fullmatch(name)
    if match is None:
        return None
    uuid, major, minor = match.groups()
    return BeaconId(uuid, int(major), int(minor))


@dataclass(frozen=True, slots=True)
class IBeaconAdvert:
    """The content of one iBeacon advert."""

    beacon: BeaconId
    measured_power: int
    """RSSI at 1 m the transmitter claims, in dBm (a signed byte, normally about -59)."""


def parse_ibeacon_payload(data: bytes) -> IBeaconAdvert | None:
    """Parse Apple manufacturer data (without the company id).

    Return None when the data holds no iBeacon (another Apple message type); raise
    :class:`PresenceInputError` when it starts as an iBeacon but is malformed. Bytes after
    the 23 iBeacon bytes are a further Apple item and are ignored.
    """
    if len(data) < 1 or data[0] != IBEACON_TYPE:
        return None
    if len(data) < 2 or data[1] != IBEACON_DATA_LENGTH:
        length = "missing" if len(data) < 2 else f"0x{data[1]:02x}"
        raise _malformed(f"iBeacon length byte must be 0x15, got {length}")
    if len(data) < IBEACON_PAYLOAD_LENGTH:
        raise _malformed(
            f"iBeacon data truncated: {len(data)} bytes, need {IBEACON_PAYLOAD_LENGTH}"
        )
    power = int.from_bytes(data[MEASURED_POWER_INDEX : MEASURED_POWER_INDEX + 1], signed=True)
    return IBeaconAdvert(BeaconId.from_bytes(data[IDENTITY_SLICE]), power)


def parse_ibeacon(manufacturer_data: Mapping[int, bytes]) -> IBeaconAdvert | None:
    """Parse an advert's manufacturer data (company id → bytes, as Home Assistant has it).

    Return None when there is no Apple data or it is no iBeacon; raise
    :class:`PresenceInputError` for a malformed iBeacon.
    """
    data = manufacturer_data.get(APPLE_COMPANY_ID)
    if data is None:
        return None
    return parse_ibeacon_payload(data)


def build_ibeacon_payload(beacon: BeaconId, measured_power: int) -> bytes:
    """Return the Apple manufacturer data of an iBeacon advert (the inverse of parsing)."""
    if not -128 <= measured_power <= 127:
        raise ValueError(f"measured power must fit a signed byte, got {measured_power}")
    return IBEACON_PREFIX + beacon.to_bytes() + measured_power.to_bytes(1, signed=True)
