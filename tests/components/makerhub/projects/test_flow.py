"""The projects' flows: the space's options (open-source policy) and the new-project
wizard with its GitHub repository and Todoist project."""

from __future__ import annotations

from datetime import timedelta
import json
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.makerhub.const import (
    CONF_PROJECT_LICENCE,
    CONF_TODOIST_INTERVAL,
    SUBENTRY_PROJECT,
)
from custom_components.makerhub.data import makerhub_data
from custom_components.makerhub.projects.todoist import CHANGE_DELAY
from tests.components.makerhub.projects.conftest import GITHUB_TOKEN, PERSON, connect
from tests.helpers.fake_github import FakeGitHub
from tests.helpers.fake_todoist import TOKEN as TODOIST_TOKEN, FakeTodoist


async def test_projects_options(hass: HomeAssistant, hub_with_people: MockConfigEntry) -> None:
    """The open-source policy and the sync interval are options."""
    result = await hass.config_entries.options.async_init(hub_with_people.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "projects"}
    )
    assert result["step_id"] == "projects"
    with pytest.raises(InvalidData):  # GitHub's key is no option: "gpl_3_0" is
        await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_PROJECT_LICENCE: "gpl-3.0", CONF_TODOIST_INTERVAL: 30.0}
        )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_PROJECT_LICENCE: "gpl_3_0", CONF_TODOIST_INTERVAL: 30.0}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert hub_with_people.options[CONF_PROJECT_LICENCE] == "gpl_3_0"
    assert hub_with_people.options[CONF_TODOIST_INTERVAL] == 30


def suggested(result: dict[str, Any], key: str) -> Any:
    """The value a form suggests for ``key``."""
    for marker in result["data_schema"].schema:
        if marker == key:
            return (marker.description or {}).get("suggested_value")
    raise KeyError(key)


@pytest.mark.parametrize(
    ("stored", "option"),
    [
        (None, "mit"),
        ("apache_2_0", "apache_2_0"),
        ("apache-2.0", "apache_2_0"),  # stored by Makerhub 0.1: GitHub's key
        ("cc0-1.0", "cc0_1_0"),
        ("none", "none"),
        ("wtfpl", "none"),  # hand-edited: no licence rather than one nobody chose
    ],
)
async def test_projects_options_show_stored_policy(
    hass: HomeAssistant, hub_with_people: MockConfigEntry, stored: str | None, option: str
) -> None:
    """The form shows the stored policy as its option, whichever form it was stored in."""
    options = {k: v for k, v in hub_with_people.options.items() if k != CONF_PROJECT_LICENCE}
    if stored is not None:
        options[CONF_PROJECT_LICENCE] = stored
    hass.config_entries.async_update_entry(hub_with_people, options=options)
    await hass.async_block_till_done()
    result = await hass.config_entries.options.async_init(hub_with_people.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "projects"}
    )
    assert suggested(result, CONF_PROJECT_LICENCE) == option


async def start_wizard(hass: HomeAssistant, entry: MockConfigEntry, **first: Any) -> dict[str, Any]:
    """Fill the wizard's first two steps; return the services step."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_PROJECT), context={"source": "user"}
    )
    assert result["step_id"] == "user"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"name": "Robot arm", "owner": PERSON, "description": "Six axes", **first},
    )
    if result["step_id"] != "space":
        return result
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"space_use": "3D printer", "steps": "- Print the base\n\n* Wire the servos\n"},
    )
    assert result["step_id"] == "services"
    return result


async def test_wizard_creates_repository_todoist_project_and_syncs(
    hass: HomeAssistant,
    hub_with_people: MockConfigEntry,
    github: FakeGitHub,
    todoist: FakeTodoist,
    entity_registry: er.EntityRegistry,
) -> None:
    """The wizard makes the repository (policy licence, starter README) and the Todoist
    project; the steps become tasks; deleting the subentry deletes the project."""
    entry = hub_with_people
    await connect(hass, entry, github_token=GITHUB_TOKEN, todoist_token=TODOIST_TOKEN)
    await hass.async_block_till_done()
    github.add_repo("alice", "Robot-arm")  # taken: the first try fails

    result = await start_wizard(hass, entry)
    placeholders = result["description_placeholders"]
    assert placeholders["accounts"] == "github, todoist"
    assert placeholders["licence"] == "MIT License"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"create_github": True, "create_todoist": True}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "github_name_taken"}
    assert makerhub_data(hass).projects.registry.find() == []
    assert todoist.projects == {}

    del github.repos["alice/Robot-arm"]
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"create_github": True, "create_todoist": True, "private": True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    (project,) = makerhub_data(hass).projects.registry.find()
    assert [s.text for s in project.steps] == ["Print the base", "Wire the servos"]
    assert project.space_use == "3D printer"
    repo = github.repos["alice/Robot-arm"]
    assert repo.private
    assert project.github_url == "https://github.com/alice/Robot-arm"
    readme = repo.text("README.md")
    assert "# Robot arm" in readme
    assert "1. [ ] Print the base" in readme
    assert "MIT License" in readme
    assert "LICENSE" in repo.files
    assert list(todoist.projects.values()) == ["Robot arm"]
    assert project.todoist_project_id in todoist.projects

    subentry_id = next(
        s.subentry_id for s in entry.subentries.values() if s.subentry_type == SUBENTRY_PROJECT
    )
    todo = entity_registry.async_get("todo.robot_arm_steps")
    assert todo is not None
    assert todo.config_subentry_id == subentry_id

    # The new project syncs a few seconds later: the steps become tasks.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=CHANGE_DELAY + 1))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert [t.content for t in todoist.live(project.todoist_project_id)] == [
        "Print the base",
        "Wire the servos",
    ]
    status = hass.states.get("sensor.robot_arm_status")
    assert status.attributes["todoist_error"] is None
    assert status.attributes["todoist_last_sync"] is not None

    hass.config_entries.async_remove_subentry(entry, subentry_id)
    await hass.async_block_till_done()
    assert makerhub_data(hass).projects.registry.find() == []
    assert hass.states.get("todo.robot_arm_steps") is None


@pytest.mark.parametrize(
    ("stored", "name", "licence_file"),
    [
        ("apache-2.0", "Apache License 2.0", "Apache License 2.0"),  # stored by 0.1
        ("bsd_3_clause", 'BSD 3-Clause "New" or "Revised" License', "BSD 3-Clause"),
        ("none", "No licence", None),
    ],
)
async def test_wizard_uses_the_stored_policy(
    hass: HomeAssistant,
    hub_with_people: MockConfigEntry,
    github: FakeGitHub,
    stored: str,
    name: str,
    licence_file: str | None,
) -> None:
    """The repository gets the policy's GitHub licence, also for a policy stored as
    GitHub's key by Makerhub 0.1; "none" creates no LICENSE."""
    entry = hub_with_people
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_PROJECT_LICENCE: stored}
    )
    await hass.async_block_till_done()
    await connect(hass, entry, github_token=GITHUB_TOKEN)
    await hass.async_block_till_done()
    result = await start_wizard(hass, entry)
    assert result["description_placeholders"]["licence"] == name
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"create_github": True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    repo = github.repos["alice/Robot-arm"]
    if licence_file is None:
        assert "LICENSE" not in repo.files
        assert "No licence chosen yet" in repo.text("README.md")
    else:
        assert repo.text("LICENSE").startswith(licence_file)


async def test_wizard_errors(
    hass: HomeAssistant,
    hub_with_people: MockConfigEntry,
    github: FakeGitHub,
    todoist: FakeTodoist,
) -> None:
    """Bad project input, accounts not connected and service failures are form errors."""
    entry = hub_with_people
    result = await start_wizard(hass, entry, name="x" * 101)
    assert result["step_id"] == "user"
    assert result["errors"] == {"base": "invalid_project"}
    assert "name" in result["description_placeholders"]["error"]

    result = await start_wizard(hass, entry)
    assert result["description_placeholders"]["accounts"] == "none"
    flow_id = result["flow_id"]
    result = await hass.config_entries.subentries.async_configure(flow_id, {"create_github": True})
    assert result["errors"] == {"base": "github_not_connected"}
    result = await hass.config_entries.subentries.async_configure(flow_id, {"create_todoist": True})
    assert result["errors"] == {"base": "todoist_not_connected"}

    await connect(hass, entry, github_token=GITHUB_TOKEN, todoist_token=TODOIST_TOKEN)
    await hass.async_block_till_done()
    github.rate_limited = "secondary"
    result = await hass.config_entries.subentries.async_configure(flow_id, {"create_github": True})
    assert result["errors"] == {"base": "github_rate_limited"}
    assert "try again after" in result["description_placeholders"]["error"]
    github.rate_limited = None
    todoist.rate_limit(count=1)
    result = await hass.config_entries.subentries.async_configure(
        flow_id, {"create_github": True, "create_todoist": True}
    )
    assert result["errors"] == {"base": "todoist_rate_limited"}
    assert len(github.repos) == 1  # made once, kept for the next try
    result = await hass.config_entries.subentries.async_configure(
        flow_id, {"create_github": True, "create_todoist": True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert len(github.repos) == 1
    assert len(todoist.projects) == 1

    await hass.config_entries.async_unload(entry.entry_id)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_PROJECT), context={"source": "user"}
    )
    assert result["reason"] == "hub_not_loaded"


async def test_wizard_service_refusals_and_a_project_without_services(
    hass: HomeAssistant,
    hub_with_people: MockConfigEntry,
    github: FakeGitHub,
    todoist: FakeTodoist,
) -> None:
    """A token that may not create repositories and a request Todoist refuses are form
    errors with the service's reason, and create nothing; with both unticked neither
    service is asked, and the project is stored without a repository or Todoist project."""
    entry = hub_with_people
    await connect(hass, entry, github_token=GITHUB_TOKEN, todoist_token=TODOIST_TOKEN)
    await hass.async_block_till_done()
    github.readonly_tokens.add(GITHUB_TOKEN)
    result = await start_wizard(hass, entry)
    flow_id = result["flow_id"]
    result = await hass.config_entries.subentries.async_configure(flow_id, {"create_github": True})
    assert result["step_id"] == "services"
    assert result["errors"] == {"base": "github_permission"}
    assert "administration=write" in result["description_placeholders"]["error"]

    refusal = {"error": "Invalid argument value", "error_tag": "INVALID_ARGUMENT_VALUE"}
    todoist.reply(1, 400, json.dumps({**refusal, "error_code": 20, "http_code": 400}))
    result = await hass.config_entries.subentries.async_configure(flow_id, {"create_todoist": True})
    assert result["step_id"] == "services"
    assert result["errors"] == {"base": "todoist_error"}
    assert "HTTP 400" in result["description_placeholders"]["error"]
    assert github.repos == {}
    assert todoist.projects == {}
    assert makerhub_data(hass).projects.registry.find() == []

    asked = (len(github.requests), len(todoist.requests))
    result = await hass.config_entries.subentries.async_configure(
        flow_id, {"create_github": False, "create_todoist": False}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Robot arm"
    await hass.async_block_till_done()
    (project,) = makerhub_data(hass).projects.registry.find()
    assert result["data"] == {"project_id": project.id}
    assert [s.text for s in project.steps] == ["Print the base", "Wire the servos"]
    assert project.github_url is None
    assert project.todoist_project_id is None
    assert (len(github.requests), len(todoist.requests)) == asked
