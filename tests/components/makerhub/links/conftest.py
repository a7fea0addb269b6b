"""Fixtures and helpers of the links tests: a second unit (Fan) and the link flow."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.makerhub.const import SUBENTRY_LINK
from tests.components.makerhub.conftest import UID, unit_subentry

FAN = "ba9876543210"
LINK_ID = f"{UID}.temperature>{FAN}.target"


@pytest.fixture
def hub_subentries() -> list[ConfigSubentryData]:
    """Two units: Bench and Fan (same schema)."""
    return [unit_subentry(), unit_subentry(FAN, "Fan", announce_id="fan-1")]


def published(mqtt_mock: MqttMockHAClient, topic: str) -> list[str]:
    """Return the payloads published on a topic, oldest first."""
    return [c.args[1] for c in mqtt_mock.async_publish.call_args_list if c.args[0] == topic]


def stored_links(entry: MockConfigEntry) -> list[str]:
    """Return the ids of the links stored in the hub, sorted."""
    return sorted(
        s.unique_id or "" for s in entry.subentries.values() if s.subentry_type == SUBENTRY_LINK
    )


async def add_link(hass: HomeAssistant, entry: MockConfigEntry, **data: Any) -> dict[str, Any]:
    """Run the link subentry flow; return its result."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_LINK), context={"source": "user"}
    )
    assert result["step_id"] == "user"
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], data)
    await hass.async_block_till_done()
    return result
