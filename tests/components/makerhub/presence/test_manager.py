"""Presence in Home Assistant: stations, the companion app, Bluetooth proxies, phones.

The engine itself is tested in ``core/``, the HTTP endpoint in ``test_view.py``, the
tracker in ``test_device_tracker.py``; here: station and phone subentries, readings from
the companion app's Beacon Monitor sensor and from a Bluetooth proxy, the options, the
diagnostics, and what comes out (entities, the ``makerhub_station_changed`` event,
retained MQTT messages).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from habluetooth import BaseHaRemoteScanner
from homeassistant.auth.models import User
from homeassistant.components import bluetooth
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import area_registry as ar, device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerhub.const import (
    DATA_MAJOR,
    DATA_MEASURED_POWER,
    DATA_MINOR,
    DATA_SCANNERS,
    DATA_UUID,
    DOMAIN,
    SUBENTRY_PHONE,
    SUBENTRY_STATION,
)
from custom_components.makerhub.core.presence import (
    APPLE_COMPANY_ID,
    BeaconId,
    build_ibeacon_payload,
)
from tests.components.makerhub.conftest import UID
from tests.components.makerhub.presence.conftest import UUID, beacon, post, settle, station


async def test_companion_app_beacon_monitor(
    hass: HomeAssistant,
    hass_admin_user: User,
    hub: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The Beacon Monitor sensor of the phone behind a person's tracker places them."""
    config_entry = MockConfigEntry(domain="mobile_app")
    config_entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=config_entry.entry_id, identifiers={("mobile_app", "pixel")}, name="Pixel"
    )
    entities = er.async_get(hass)
    entities.async_get_or_create(
        "device_tracker",
        "mobile_app",
        "pixel-tracker",
        device_id=device.id,
        suggested_object_id="pixel",
    )
    entities.async_get_or_create(
        "sensor", "mobile_app", "pixel-beacon", device_id=device.id,
        suggested_object_id="pixel_beacon_monitor",
    )  # fmt: skip
    hass.states.async_set(
        "sensor.pixel_beacon_monitor",
        "Monitoring",
        {f"{UUID}_1_2": 0.6, f"{UUID}_1_1": 4.0, "friendly_name": "Pixel Beacon Monitor"},
    )
    assert await async_setup_component(
        hass,
        "person",
        {
            "person": [
                {
                    "id": "bob",
                    "name": "Bob",
                    "user_id": hass_admin_user.id,
                    "device_trackers": ["device_tracker.pixel"],
                }
            ]
        },
    )
    await hass.async_block_till_done()
    await settle(hass, freezer, 2)
    state = hass.states.get("sensor.makerhub_bob_station")
    assert state is not None
    assert state.state == "Laser"
    assert state.attributes["source"] == "companion_app"

    hass.states.async_set("sensor.pixel_beacon_monitor", "unavailable", {})
    await hass.async_block_till_done()
    await settle(hass, freezer, 2)
    assert hass.states.get("sensor.makerhub_bob_station").state == "Laser"  # reading stands
    assert hass.states.get("sensor.makerhub_bob_station").attributes["last_seen"]
    hass.states.async_set("sensor.pixel_beacon_monitor", "Stopped", {})
    await hass.async_block_till_done()
    await settle(hass, freezer, 2)
    assert hass.states.get("sensor.makerhub_bob_station").state == "away"


async def test_station_subentry_flow(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """Stations are added and changed with checks; each is a device with its entities."""

    async def add(data: dict[str, Any]) -> dict[str, Any]:
        result = await hass.config_entries.subentries.async_init(
            (hub.entry_id, SUBENTRY_STATION), context={"source": "user"}
        )
        assert result["type"] is FlowResultType.FORM
        return dict(await hass.config_entries.subentries.async_configure(result["flow_id"], data))

    good = {
        CONF_NAME: "Soldering",
        DATA_UUID: UUID.upper(),
        DATA_MAJOR: 1,
        DATA_MINOR: 3,
        DATA_MEASURED_POWER: -60,
        DATA_SCANNERS: "AA:BB:CC:00:00:02, AA:BB:CC:00:00:03",
    }
    for change, errors in (
        ({DATA_UUID: "not-a-uuid"}, {"base": "invalid_station"}),
        ({CONF_NAME: "bench a"}, {CONF_NAME: "name_taken"}),
        ({CONF_NAME: " "}, {CONF_NAME: "invalid_name"}),
        ({DATA_MINOR: 1}, {DATA_UUID: "beacon_taken"}),
        ({DATA_SCANNERS: "AA:BB:CC:00:00:01"}, {DATA_SCANNERS: "scanner_taken"}),
    ):
        result = await add({**good, **change})
        assert result["errors"] == errors, change
    area = ar.async_get(hass).async_create("Workshop")
    display = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, UID)})
    assert display is not None
    result = await add({**good, "area_id": area.id, "display_device_id": display.id})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    station_device = next(
        device
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), hub.entry_id)
        if device.name == "Soldering"
    )
    assert station_device.area_id == area.id
    occupancy = hass.states.get("binary_sensor.soldering_occupancy")
    assert occupancy.attributes["display_device_id"] == display.id
    subentry = next(s for s in hub.subentries.values() if s.title == "Soldering")
    assert subentry.data[DATA_UUID] == UUID  # normalised
    assert subentry.data[DATA_SCANNERS] == ["AA:BB:CC:00:00:02", "AA:BB:CC:00:00:03"]
    assert hass.states.get("binary_sensor.soldering_occupancy").state == "off"
    assert hass.states.get("sensor.soldering_people").state == "0"

    result = await hass.config_entries.subentries.async_init(
        (hub.entry_id, SUBENTRY_STATION),
        context={"source": "reconfigure", "subentry_id": subentry.subentry_id},
    )
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**good, CONF_NAME: "Soldering corner", DATA_SCANNERS: ""}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    device = dr.async_get(hass).async_get_device(
        identifiers={(DOMAIN, f"station_{subentry.subentry_id}")}
    )
    assert device is not None
    assert device.name == "Soldering corner"

    hass.config_entries.async_remove_subentry(hub, subentry.subentry_id)
    await hass.async_block_till_done()
    assert (
        dr.async_get(hass).async_get_device(
            identifiers={(DOMAIN, f"station_{subentry.subentry_id}")}
        )
        is None
    )


async def test_presence_diagnostics(
    hass: HomeAssistant,
    alice: str,
    hub: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    """Diagnostics list stations, people and the engine's counters."""
    assert await async_setup_component(hass, "diagnostics", {})
    client = await hass_client()
    await post(client, {"beacon": beacon(9), "distance": 1})
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, hub)
    presence = diagnostics["hub"]["presence"]
    assert {s["name"] for s in presence["stations"].values()} == {"Bench A", "Laser"}
    assert presence["stats"]["refused"] == {"unknown_station": 1}


async def test_presence_options(
    hass: HomeAssistant,
    alice: str,
    hub: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Tunables are checked and applied; the space can require a project to be active."""
    result = await hass.config_entries.options.async_init(hub.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "presence"}
    )
    assert result["step_id"] == "presence"
    defaults = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description
    }
    assert defaults["dwell"] == 1.5
    assert defaults["presence_require_project"] is False
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**defaults, "switch_margin": 0.99}
    )
    assert result["errors"] == {"base": "invalid_tunables"}
    assert "switch_margin" in result["description_placeholders"]["error"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**defaults, "dwell": 0.5, "presence_require_project": True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    presence = hub.runtime_data.presence
    assert presence.engine.tunables.dwell == 0.5
    assert presence.require_project is True
    assert hub.options["prefix"] == "makerhub"

    client = await hass_client()
    await post(client, {"beacon": beacon(1), "distance": 1.0})
    await settle(hass, freezer, 1)
    assert hass.states.get("sensor.makerhub_alice_station").state == "Bench A"
    assert hass.states.get("binary_sensor.makerhub_space_active").state == "off"  # no project
    await post(client, {"beacon": beacon(1), "distance": 1.0, "project": "lamp"})
    await hass.async_block_till_done()
    assert hass.states.get("binary_sensor.makerhub_space_active").state == "on"


# -- Bluetooth scanners hearing phones' transmitted iBeacons ----------------------------

PHONE_UUID = "a1b2c3d4-0000-4000-8000-00000000beef"
LASER_SCANNER = "AA:BB:CC:00:00:01"


class FakeProxy(BaseHaRemoteScanner):
    """A Bluetooth proxy (as ESPHome's) placed at a station."""

    def hear(self, address: str, rssi: int) -> None:
        """Receive one advert of Alice's phone."""
        payload = build_ibeacon_payload(BeaconId(PHONE_UUID, 7, 7), -59)
        self._async_on_advertisement(
            address, rssi, None, [], {}, {APPLE_COMPANY_ID: payload}, None, {},
            time.monotonic(),
        )  # fmt: skip


def phone(person: str = "person.alice", **data: Any) -> ConfigSubentryData:
    """Return a stored phone subentry."""
    return ConfigSubentryData(
        data={"person": person, **data},
        subentry_type=SUBENTRY_PHONE,
        title=f"{person}'s phone",
        unique_id=None,
    )


@pytest.mark.parametrize(
    "hub_subentries",
    [
        [
            station("Bench A", 1),
            station("Laser", 2, (LASER_SCANNER,)),
            phone(uuid=PHONE_UUID, major=7, minor=7),
        ]
    ],
)
async def test_bluetooth_proxy_hears_a_phone(
    hass: HomeAssistant,
    enable_bluetooth: None,
    alice: str,
    hub: MockConfigEntry,
) -> None:
    """A proxy at the laser hears Alice's phone: she is there, whatever its MAC address."""
    proxy = FakeProxy(LASER_SCANNER, "laser proxy", None, False)
    cancel = [proxy.async_setup(), bluetooth.async_register_scanner(hass, proxy)]
    try:
        addresses = ["11:22:33:44:55:66", "11:22:33:44:55:77"]  # the phone rotates its MAC
        for step in range(8):
            proxy.hear(addresses[step // 4], -60)
            await asyncio.sleep(0.45)  # the hub polls every second
        state = hass.states.get("sensor.makerhub_alice_station")
        assert state.state == "Laser"
        assert state.attributes["source"] == "bluetooth"
        assert hass.states.get("device_tracker.alice_in_the_space").state == "home"
    finally:
        for undo in cancel:
            undo()


async def test_phone_subentry_flow(hass: HomeAssistant, alice: str, hub: MockConfigEntry) -> None:
    """A phone names a person and a device, a transmitted beacon, or both."""

    async def add(data: dict[str, Any]) -> dict[str, Any]:
        result = await hass.config_entries.subentries.async_init(
            (hub.entry_id, SUBENTRY_PHONE), context={"source": "user"}
        )
        return dict(await hass.config_entries.subentries.async_configure(result["flow_id"], data))

    result = await add({"person": alice})
    assert result["errors"] == {"base": "phone_needs_something"}
    result = await add({"person": alice, "uuid": "nope", "major": 1, "minor": 1})
    assert result["errors"] == {"base": "invalid_beacon"}
    result = await add({"person": alice, "uuid": UUID, "major": 1, "minor": 1})
    assert result["errors"] == {"uuid": "beacon_taken"}  # Bench A's
    result = await add({"person": alice, "uuid": PHONE_UUID.upper(), "major": 7, "minor": 7})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Alice's phone"
    assert result["data"]["uuid"] == PHONE_UUID
    await hass.async_block_till_done()
    assert hub.runtime_data.presence.phones[0].person == alice
    # The companion app's device alone is enough (its Beacon Monitor sensor places them).
    app = MockConfigEntry(domain="mobile_app")
    app.add_to_hass(hass)
    pixel = dr.async_get(hass).async_get_or_create(
        config_entry_id=app.entry_id, identifiers={("mobile_app", "pixel")}, name="Pixel"
    )
    result = await add({"person": alice, "device_id": pixel.id})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {"person": alice, "device_id": pixel.id}
