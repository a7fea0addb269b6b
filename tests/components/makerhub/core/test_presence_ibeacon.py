"""iBeacon adverts and beacon keys (the companion app's attribute names)."""

from __future__ import annotations

import pytest

from custom_components.makerhub.core.presence import (
    APPLE_COMPANY_ID,
    BeaconId,
    IBeaconAdvert,
    PresenceInputError,
    PresenceInputReason,
    build_ibeacon_payload,
    parse_beacon_key,
    parse_ibeacon,
)
from custom_components.makerhub.core.presence.ibeacon import parse_ibeacon_payload

UUID = "2f234454-cf6d-4a0f-adf2-f4911ba9ffa6"
# An iBeacon as a phone transmits it: type 0x02, length 0x15, uuid, major 1, minor 2, -59.
PAYLOAD = bytes.fromhex("02152f234454cf6d4a0fadf2f4911ba9ffa600010002c5")


def test_parses_an_ibeacon_advert() -> None:
    advert = parse_ibeacon({APPLE_COMPANY_ID: PAYLOAD})
    assert advert == IBeaconAdvert(BeaconId(UUID, 1, 2), -59)


def test_measured_power_is_a_signed_byte() -> None:
    for raw, power in ((0x00, 0), (0x7F, 127), (0x80, -128), (0xFF, -1), (0xB5, -75)):
        advert = parse_ibeacon_payload(PAYLOAD[:-1] + bytes([raw]))
        assert advert is not None
        assert advert.measured_power == power


def test_major_and_minor_are_big_endian() -> None:
    advert = parse_ibeacon_payload(PAYLOAD[:18] + bytes.fromhex("1234fffe") + PAYLOAD[-1:])
    assert advert is not None
    assert (advert.beacon.major, advert.beacon.minor) == (0x1234, 0xFFFE)


@pytest.mark.parametrize(
    "manufacturer_data",
    [
        {},
        {0x0006: PAYLOAD},  # Microsoft's company id, same bytes
        {APPLE_COMPANY_ID: b""},
        {APPLE_COMPANY_ID: bytes.fromhex("1005031c")},  # Apple "nearby" message
        {APPLE_COMPANY_ID: bytes.fromhex("12190000")},  # Find My
    ],
)
def test_data_without_an_ibeacon_is_not_one(manufacturer_data: dict[int, bytes]) -> None:
    assert parse_ibeacon(manufacturer_data) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x02", "length byte must be 0x15, got missing"),
        (bytes.fromhex("0216") + PAYLOAD[2:], "length byte must be 0x15, got 0x16"),
        (PAYLOAD[:22], "truncated: 22 bytes, need 23"),
        (PAYLOAD[:5], "truncated: 5 bytes, need 23"),
    ],
)
def test_a_malformed_ibeacon_raises_a_precise_error(data: bytes, message: str) -> None:
    with pytest.raises(PresenceInputError, match=message) as caught:
        parse_ibeacon({APPLE_COMPANY_ID: data})
    assert caught.value.reason is PresenceInputReason.MALFORMED_BEACON


def test_bytes_after_the_ibeacon_are_another_apple_item() -> None:
    assert parse_ibeacon_payload(PAYLOAD + bytes.fromhex("1005")) == parse_ibeacon_payload(PAYLOAD)


def test_build_is_the_inverse_of_parse() -> None:
    beacon = BeaconId("e2c56db5-dffb-48d2-b060-d0f5a71096e0", 65535, 0)
    payload = build_ibeacon_payload(beacon, -77)
    assert len(payload) == 23
    assert parse_ibeacon_payload(payload) == IBeaconAdvert(beacon, -77)
    assert build_ibeacon_payload(BeaconId(UUID, 1, 2), -59) == PAYLOAD
    with pytest.raises(ValueError, match="signed byte"):
        build_ibeacon_payload(beacon, -129)


def test_key_is_the_companion_app_attribute_name() -> None:
    # The app names each attribute "${uuid}_${major}_$minor" from AltBeacon identifiers:
    # a lowercase dashed UUID and decimal major and minor.
    assert BeaconId(UUID, 100, 7).key == f"{UUID}_100_7"
    assert str(BeaconId(UUID, 0, 65535)) == f"{UUID}_0_65535"


@pytest.mark.parametrize(
    "spelling",
    [UUID.upper(), UUID.replace("-", ""), "{" + UUID + "}", "urn:uuid:" + UUID],
)
def test_uuid_spellings_are_normalised(spelling: str) -> None:
    beacon = BeaconId(spelling, 1, 2)
    assert beacon.uuid == UUID
    assert beacon == BeaconId(UUID, 1, 2)
    assert hash(beacon) == hash(BeaconId(UUID, 1, 2))


@pytest.mark.parametrize(
    ("uuid", "major", "minor", "message"),
    [
        ("not-a-uuid", 1, 2, "'not-a-uuid' is not a UUID"),
        (UUID[:-1], 1, 2, "is not a UUID"),
        (12345, 1, 2, "uuid must be a string, got int"),
        (UUID, -1, 2, "major must be 0 to 65535, got -1"),
        (UUID, 1, 65536, "minor must be 0 to 65535, got 65536"),
        (UUID, True, 2, "major must be an integer, got bool"),
        (UUID, 1, "2", "minor must be an integer, got str"),
    ],
)
def test_invalid_beacon_ids_are_refused(
    uuid: object, major: object, minor: object, message: str
) -> None:
    with pytest.raises(PresenceInputError, match=message) as caught:
        BeaconId(uuid, major, minor)  # type: ignore[arg-type]
    assert caught.value.reason is PresenceInputReason.MALFORMED_BEACON


def test_beacon_keys_parse_back() -> None:
    beacon = BeaconId(UUID, 100, 7)
    assert BeaconId.from_key(beacon.key) == beacon
    assert parse_beacon_key(f"{UUID.upper()}_100_7") == beacon


@pytest.mark.parametrize(
    "name",
    [
        "friendly_name",
        "options",
        "icon",
        "a_1_2",
        f"{UUID}_1",
        f"{UUID}_1_-2",
        "zzzz4454-cf6d-4a0f-adf2-f4911ba9ffa6_1_1",
    ],
)
def test_other_attribute_names_are_no_beacon_keys(name: str) -> None:
    assert parse_beacon_key(name) is None
    with pytest.raises(PresenceInputError, match="is not a beacon key"):
        BeaconId.from_key(name)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (f"{UUID}_70000_1", "major must be 0 to 65535, got 70000"),
        (f"{UUID}_1_99999999999999999999", "minor must be 0 to 65535"),
        ("2f234454-cf6d-4a0f-adf2-f4911ba9ff--_1_1", "is not a UUID"),
    ],
)
def test_key_shaped_names_with_bad_parts_raise(name: str, message: str) -> None:
    with pytest.raises(PresenceInputError, match=message) as caught:
        parse_beacon_key(name)
    assert caught.value.reason is PresenceInputReason.MALFORMED_BEACON


def test_identity_bytes_round_trip() -> None:
    beacon = BeaconId(UUID, 258, 772)
    assert beacon.to_bytes() == PAYLOAD[2:18] + bytes.fromhex("01020304")
    assert BeaconId.from_bytes(beacon.to_bytes()) == beacon
    with pytest.raises(PresenceInputError, match="20 bytes, got 19"):
        BeaconId.from_bytes(beacon.to_bytes()[:19])
