"""Health of the telemetry database, against the real PostgreSQL: healthy once the writer
is connected; a database that cannot be reached is a problem a grace later, with its
repair issue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.makerhub.const import CONF_TELEMETRY_DSN, DOMAIN
from custom_components.makerhub.health.manager import (
    DATABASE_GRACE,
    EVENT_HEALTH_PROBLEM,
    ISSUE_DATABASE,
)
from custom_components.makerhub.secrets import (
    CONTEXT_TELEMETRY_DSN,
    async_get_secret_box,
    seal_text,
)
from dev.processes.ports import free_port
from tests.components.makerhub.conftest import HUB_OPTIONS
from tests.components.makerhub.telemetry.test_manager import database, database_url

__all__ = ["database", "database_url"]  # fixtures of the telemetry tests

PROBLEM = "binary_sensor.makerhub_telemetry_database_problem"


@pytest.fixture
def dsn_of_test(request: pytest.FixtureRequest) -> str:
    """The database URL the hub gets (parametrized: the real one or a closed port)."""
    if request.param == "closed":
        return f"postgresql://makerhub@127.0.0.1:{free_port()}/nothing"
    url: str = request.getfixturevalue("database_url")
    return url


@pytest.fixture
async def hub_options(hass: HomeAssistant, dsn_of_test: str) -> dict[str, Any]:
    """Hub options with telemetry on."""
    box = await async_get_secret_box(hass)
    return {**HUB_OPTIONS, CONF_TELEMETRY_DSN: seal_text(box, dsn_of_test, CONTEXT_TELEMETRY_DSN)}


@pytest.fixture
async def hub(
    hass: HomeAssistant,
    socket_enabled: None,
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
) -> AsyncIterator[MockConfigEntry]:
    """The hub with telemetry on; unloaded at the end so the store stops."""
    hub_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    yield hub_entry
    if hub_entry.state is ConfigEntryState.LOADED:
        assert await hass.config_entries.async_unload(hub_entry.entry_id)


@pytest.mark.parametrize("dsn_of_test", ["real"], indirect=True)
async def test_a_connected_database_is_healthy(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    telemetry = hub.runtime_data.telemetry
    assert telemetry is not None
    health = hub.runtime_data.health
    for _ in range(200):  # the writer connects in the background (up to 20 s)
        await telemetry.coordinator.async_refresh()
        await hass.async_block_till_done()
        item = health.health("telemetry_database")
        if item is not None and item.status == "healthy":
            break
        await asyncio.sleep(0.1)
    assert health.health("telemetry_database").status == "healthy"
    assert hass.states.get(PROBLEM).state == "off"
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_DATABASE) is None


@pytest.mark.parametrize("dsn_of_test", ["closed"], indirect=True)
async def test_an_unreachable_database_is_a_problem_with_a_repair(
    hass: HomeAssistant, hub: MockConfigEntry
) -> None:
    problems = async_capture_events(hass, EVENT_HEALTH_PROBLEM)
    assert hass.states.get(PROBLEM).state == "off"  # the writer gets its grace
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=DATABASE_GRACE + 1))
    await hass.async_block_till_done()
    assert hass.states.get(PROBLEM).state == "on"
    assert [e.data["item"] for e in problems] == ["telemetry_database"]
    issue = ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_DATABASE)
    assert issue is not None
    assert issue.translation_placeholders == {
        "message": "Telemetry database: the database cannot be reached"
    }
