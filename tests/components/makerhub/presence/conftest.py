"""Fixtures and helpers of the presence tests: stations, beacons, reports."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.makerhub.const import (
    DATA_MAJOR,
    DATA_MEASURED_POWER,
    DATA_MINOR,
    DATA_SCANNERS,
    DATA_UUID,
    SUBENTRY_STATION,
)
from tests.components.makerhub.conftest import unit_subentry

UUID = "e2c56db5-dffb-48d2-b060-d0f5a71096e0"
URL = "/api/makerhub/presence"


def station(name: str, minor: int, scanners: tuple[str, ...] = ()) -> ConfigSubentryData:
    """Return a stored station subentry."""
    return ConfigSubentryData(
        data={
            DATA_UUID: UUID,
            DATA_MAJOR: 1,
            DATA_MINOR: minor,
            DATA_MEASURED_POWER: -59,
            DATA_SCANNERS: list(scanners),
        },
        subentry_type=SUBENTRY_STATION,
        title=name,
        unique_id=None,
    )


@pytest.fixture
def hub_subentries() -> list[ConfigSubentryData]:
    """A unit and two stations."""
    return [unit_subentry(), station("Bench A", 1), station("Laser", 2, ("AA:BB:CC:00:00:01",))]


async def post(client: Any, body: Any) -> tuple[int, dict[str, Any]]:
    """POST a report; return the status and the JSON answer."""
    response = await client.post(URL, json=body)
    return response.status, await response.json()


def beacon(minor: int) -> dict[str, Any]:
    """Return a report's beacon."""
    return {"uuid": UUID, "major": 1, "minor": minor}


async def settle(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    """Let time pass for the engine and Home Assistant's timers."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
