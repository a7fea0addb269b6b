"""A project's steps synced with its Todoist project, both ways."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.auth.models import User
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    flush_store,
)

from custom_components.makerhub.const import DOMAIN
from custom_components.makerhub.core.todoist import TodoistAuthError
from custom_components.makerhub.projects.accounts import DATA_ACCOUNTS, Service
from custom_components.makerhub.projects.store import DATA_PROJECTS
from custom_components.makerhub.projects.todoist import DATA_TODOIST, ISSUE_AUTH
from tests.components.makerhub.projects.conftest import PERSON, connect
from tests.helpers.fake_todoist import TOKEN as TODOIST_TOKEN, FakeTodoist


async def test_todoist_sync_both_ways(
    hass: HomeAssistant,
    hass_admin_user: User,
    hub_with_people: MockConfigEntry,
    todoist: FakeTodoist,
    hass_storage: dict[str, Any],
) -> None:
    """Changes in Todoist come in on the button and the timer; local ones go out soon after;
    a refused token raises a repair issue; a rate limit waits."""
    entry = hub_with_people
    await connect(hass, entry, todoist_token=TODOIST_TOKEN)
    await hass.async_block_till_done()
    remote_id = todoist.add_project("Clock")
    existing = todoist.add_task(remote_id, "Cut the case")
    projects = hass.data[DATA_PROJECTS]
    project = projects.saved(
        projects.registry.create(
            {"name": "Clock", "steps": ["Solder"], "todoist_project_id": remote_id},
            hass_admin_user.id,
        )
    )
    await hass.async_block_till_done()
    button = "button.clock_sync_with_todoist"
    assert hass.states.get(button).state != "unavailable"
    await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    texts = [s.text for s in projects.registry.get(project.id).steps]
    assert texts == ["Solder", "Cut the case"]
    assert sorted(t.content for t in todoist.live(remote_id)) == ["Cut the case", "Solder"]

    # Done in Todoist → done here (periodic sync).
    todoist.close(existing.id)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=16))
    await hass.async_block_till_done(wait_background_tasks=True)
    steps = projects.registry.get(project.id).steps
    assert [s.done for s in steps] == [False, True]

    # Renamed here → renamed in Todoist a few seconds later.
    projects.saved(projects.registry.edit_step(project.id, steps[0].id, "Solder the board"))
    await hass.async_block_till_done()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=16, seconds=10))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert "Solder the board" in [t.content for t in todoist.live(remote_id)]
    await flush_store(hass.data[DATA_TODOIST]._store)
    assert project.id in hass_storage["makerhub.todoist"]["data"]["projects"]

    # A rate limit: the sync stops, says when, and the timer waits until then.
    todoist.rate_limit(count=1, retry_after=3600)
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    assert err.value.translation_key == "todoist_sync_failed"
    asked = len(todoist.requests)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=40))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(todoist.requests) == asked

    # A refused token: a repair issue for the person, the local steps kept.
    todoist.tokens.clear()
    with pytest.raises(TodoistAuthError):
        await hass.data[DATA_TODOIST].async_sync(project.id)
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"{ISSUE_AUTH}_{PERSON}") is not None
    assert len(projects.registry.get(project.id).steps) == 2
    todoist.tokens[TODOIST_TOKEN] = "Ada"
    await hass.data[DATA_TODOIST].async_sync(project.id)
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"{ISSUE_AUTH}_{PERSON}") is None

    # Without a token the button says so; unlinked projects have no button to press.
    await hass.data[DATA_ACCOUNTS].async_set(PERSON, Service.TODOIST, None)
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    assert "Todoist account" in str(err.value.translation_placeholders)
    projects.saved(projects.registry.update(project.id, {"todoist_project_id": None}))
    await hass.async_block_till_done()
    assert hass.states.get(button).state == "unavailable"
