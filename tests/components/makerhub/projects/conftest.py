"""Fixtures and helpers of the projects tests: the fake GitHub and Todoist, a hub with
people, connected accounts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from homeassistant.auth.models import User
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.makerhub.const import DOMAIN
from custom_components.makerhub.projects.accounts import SERVICE_URLS, Service
from tests.components.makerhub.conftest import store_signed_agreement
from tests.helpers.fake_github import FakeGitHub
from tests.helpers.fake_todoist import FakeTodoist

GITHUB_TOKEN = "ghp_alice0123456789"
PERSON = "person.alice"


@pytest.fixture
async def github(
    socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[FakeGitHub]:
    """A fake GitHub that knows Alice's token."""
    fake = FakeGitHub(tokens={GITHUB_TOKEN: "alice"})
    monkeypatch.setitem(SERVICE_URLS, Service.GITHUB, await fake.start())
    yield fake
    await fake.stop()


@pytest.fixture
async def todoist(
    socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[FakeTodoist]:
    """A fake Todoist that knows Alice's token."""
    fake = FakeTodoist()
    monkeypatch.setitem(SERVICE_URLS, Service.TODOIST, await fake.start())
    yield fake
    await fake.stop()


@pytest.fixture
async def hub_with_people(
    hass: HomeAssistant,
    hass_admin_user: User,
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> AsyncIterator[MockConfigEntry]:
    """Alice (the admin user, who signed the space's agreement) and a loaded hub."""
    store_signed_agreement(hass_storage, PERSON)
    assert await async_setup_component(
        hass,
        "person",
        {"person": [{"id": "alice", "name": "Alice", "user_id": hass_admin_user.id}]},
    )
    hub_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    yield hub_entry
    if hub_entry.state is ConfigEntryState.LOADED:
        assert await hass.config_entries.async_unload(hub_entry.entry_id)


async def connect(hass: HomeAssistant, entry: MockConfigEntry, **fields: Any) -> dict[str, Any]:
    """Fill the accounts options form; return the result."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "accounts"}
    )
    assert result["step_id"] == "accounts"
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"person": PERSON, **fields}
    )


@pytest.fixture
async def setup(hass: HomeAssistant) -> None:
    """Load the integration (projects need no hub entry)."""
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
