"""People's accounts on GitHub and Todoist: checked, encrypted, forgotten; never in
diagnostics."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.auth.models import User
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, MqttMockHAClient

from custom_components.makerhub.const import DOMAIN, SUBENTRY_PROJECT
from custom_components.makerhub.data import makerhub_data
from custom_components.makerhub.projects.accounts import Service
from custom_components.makerhub.projects.devices import project_device_id
from tests.components.makerhub.projects.conftest import GITHUB_TOKEN, PERSON, connect
from tests.helpers.fake_github import FakeGitHub
from tests.helpers.fake_todoist import TOKEN as TODOIST_TOKEN, FakeTodoist


async def test_accounts_checked_encrypted_and_forgotten(
    hass: HomeAssistant,
    hub_with_people: MockConfigEntry,
    github: FakeGitHub,
    todoist: FakeTodoist,
    hass_storage: dict[str, Any],
) -> None:
    """Tokens are checked with their service, stored sealed, and can be forgotten."""
    result = await connect(hass, hub_with_people, github_token="ghp_wrong", todoist_token="x")
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"github_token": "github_auth", "todoist_token": "todoist_auth"}
    assert "ghp_wrong" not in result["description_placeholders"]["error"]
    accounts = makerhub_data(hass).accounts
    assert accounts.connected(PERSON) == []

    result = await connect(
        hass, hub_with_people, github_token=GITHUB_TOKEN, todoist_token=TODOIST_TOKEN
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert accounts.connected(PERSON) == [Service.GITHUB, Service.TODOIST]
    assert accounts.token(PERSON, Service.GITHUB) == GITHUB_TOKEN
    stored = str(hass_storage["makerhub.accounts"])
    assert GITHUB_TOKEN not in stored
    assert TODOIST_TOKEN not in stored
    # Sealed per person and service: a token moved to another person does not open.
    sealed = hass_storage["makerhub.accounts"]["data"]["people"][PERSON]["github"]
    accounts._sealed["person.mallory"] = {"github": sealed}
    assert accounts.token("person.mallory", Service.GITHUB) is None

    # Empty fields keep what is stored; a forget box forgets.
    result = await connect(hass, hub_with_people, forget_todoist=True)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert accounts.connected(PERSON) == [Service.GITHUB]
    result = await connect(hass, hub_with_people, forget_github=True)
    assert accounts.connected(PERSON) == []
    assert PERSON not in hass_storage["makerhub.accounts"]["data"]["people"]

    # GitHub unreachable: its own error, nothing stored.
    await github.stop()
    result = await connect(hass, hub_with_people, github_token=GITHUB_TOKEN)
    assert result["errors"] == {"github_token": "github_cannot_connect"}
    assert accounts.connected(PERSON) == []


async def test_accounts_need_people(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, hub: MockConfigEntry
) -> None:
    """Without people who have users there is nobody to connect."""
    result = await hass.config_entries.options.async_init(hub.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "accounts"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_people"
    result = await hass.config_entries.subentries.async_init(
        (hub.entry_id, SUBENTRY_PROJECT), context={"source": "user"}
    )
    assert result["reason"] == "no_people"


async def test_diagnostics_name_accounts_never_tokens(
    hass: HomeAssistant,
    hass_admin_user: User,
    hass_client: ClientSessionGenerator,
    hub_with_people: MockConfigEntry,
    todoist: FakeTodoist,
) -> None:
    """Entry diagnostics list who connected what; a project's device shows the project."""
    entry = hub_with_people
    await connect(hass, entry, todoist_token=TODOIST_TOKEN)
    await hass.async_block_till_done()
    projects = makerhub_data(hass).projects
    project = projects.saved(projects.registry.create({"name": "Clock"}, hass_admin_user.id))
    await hass.async_block_till_done()
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["projects"]["connected_accounts"] == {PERSON: ["todoist"]}
    assert diagnostics["projects"]["by_status"] == {"active": 1, "paused": 0, "archived": 0}
    assert TODOIST_TOKEN not in json.dumps(diagnostics)
    device = dr.async_get(hass).async_get_device({(DOMAIN, project_device_id(project.id))})
    assert device is not None
    shown = await get_diagnostics_for_device(hass, hass_client, entry, device)
    assert shown["project"]["name"] == "Clock"
    assert shown["todoist"] == {}
