"""The Me view's station display when the station's settings name none: the first display
unit in the station's area (where ``makerhub.show_on_display`` looks), else none."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.helpers import area_registry as ar, device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.makerhub.const import DOMAIN
from custom_components.makerhub.devices import station_device_id
from makerhub_display.agent import MAKERHUB_JSON
from tests.components.makerhub.conftest import UID, unit_subentry
from tests.components.makerhub.presence.conftest import URL, beacon, station

from .test_api import me

DISPLAY = "aaaaaaaaaaa1"


@pytest.fixture
def hub_subentries() -> list[ConfigSubentryData]:
    """A display unit, a unit that is no display, and a station naming no display."""
    return [
        unit_subentry(DISPLAY, "Bench screen", MAKERHUB_JSON, "display-bench", None),
        unit_subentry(),
        station("Bench A", 1),
    ]


def device(hass: HomeAssistant, identifier: str) -> dr.DeviceEntry:
    """Return the Makerhub device with ``identifier``."""
    found = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, identifier)})
    assert found is not None
    return found


async def test_station_display_is_found_in_the_stations_area(
    hass: HomeAssistant,
    members: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_client: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """No area: no display. In an area with only a non-display unit: none. With the
    display's device moved there: that display and its entities."""
    bench = next(s for s in members.subentries.values() if s.title == "Bench A")
    client = await hass_client()
    response = await client.post(URL, json={"beacon": beacon(1), "distance": 0.7})
    assert response.status == 200
    freezer.tick(timedelta(seconds=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    ws = await hass_ws_client(hass)
    place = (await me(ws))["station"]
    assert place["id"] == bench.subentry_id
    assert place["display_device_id"] is None
    assert place["display_entities"] == []

    devices = dr.async_get(hass)
    area = ar.async_get(hass).async_create("Bench area").id
    devices.async_update_device(device(hass, station_device_id(bench.subentry_id)).id, area_id=area)
    devices.async_update_device(device(hass, UID).id, area_id=area)
    assert (await me(ws))["station"]["display_device_id"] is None

    screen = device(hass, DISPLAY)
    devices.async_update_device(screen.id, area_id=area)
    place = (await me(ws))["station"]
    assert place["display_device_id"] == screen.id
    assert "select.bench_screen_show" in place["display_entities"]
