"""Fixtures of the members tests: Alice (the admin user) and Bob (a read-only user), both
people, and a loaded hub."""

from __future__ import annotations

from collections.abc import AsyncIterator

from homeassistant.auth.models import User
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import CLIENT_ID, MockConfigEntry, MockUser
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

ALICE = "person.alice"
BOB = "person.bob"


@pytest.fixture
async def members(
    hass: HomeAssistant,
    hass_admin_user: User,
    hass_read_only_user: User,
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
) -> AsyncIterator[MockConfigEntry]:
    """Alice (admin) and Bob (read-only user), and the loaded hub; none has signed."""
    assert await async_setup_component(
        hass,
        "person",
        {
            "person": [
                {"id": "alice", "name": "Alice", "user_id": hass_admin_user.id},
                {"id": "bob", "name": "Bob", "user_id": hass_read_only_user.id},
            ]
        },
    )
    hub_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    yield hub_entry
    if hub_entry.state is ConfigEntryState.LOADED:
        assert await hass.config_entries.async_unload(hub_entry.entry_id)


async def no_person_token(hass: HomeAssistant) -> str:
    """Return an access token of a user linked to no person."""
    user = MockUser(name="Kiosk").add_to_hass(hass)
    refresh = await hass.auth.async_create_refresh_token(user, CLIENT_ID)
    return hass.auth.async_create_access_token(refresh)
