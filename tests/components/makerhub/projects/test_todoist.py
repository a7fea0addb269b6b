"""A project's steps synced with its Todoist project, both ways."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import logging
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
from custom_components.makerhub.core.projects import MAX_STEPS
from custom_components.makerhub.core.todoist import TodoistAuthError
from custom_components.makerhub.data import makerhub_data
from custom_components.makerhub.projects.accounts import Service
from custom_components.makerhub.projects.todoist import (
    CHANGE_DELAY,
    ISSUE_AUTH,
    TodoistSyncError,
)
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
    projects = makerhub_data(hass).projects
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
    await flush_store(makerhub_data(hass).todoist._store)
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
        await makerhub_data(hass).todoist.async_sync(project.id)
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"{ISSUE_AUTH}_{PERSON}") is not None
    assert len(projects.registry.get(project.id).steps) == 2
    todoist.tokens[TODOIST_TOKEN] = "Ada"
    await makerhub_data(hass).todoist.async_sync(project.id)
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"{ISSUE_AUTH}_{PERSON}") is None

    # Without a token the button says so; unlinked projects have no button to press.
    await makerhub_data(hass).accounts.async_set(PERSON, Service.TODOIST, None)
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    assert "Todoist account" in str(err.value.translation_placeholders)
    projects.saved(projects.registry.update(project.id, {"todoist_project_id": None}))
    await hass.async_block_till_done()
    assert hass.states.get(button).state == "unavailable"


async def linked_project(
    hass: HomeAssistant, owner: str, remote_id: str, name: str = "Clock", steps: Any = ()
) -> str:
    """Create a project linked to a Todoist project; return its id."""
    projects = makerhub_data(hass).projects
    project = projects.saved(
        projects.registry.create(
            {"name": name, "steps": list(steps), "todoist_project_id": remote_id}, owner
        )
    )
    await hass.async_block_till_done()
    return str(project.id)


async def test_todoist_sync_says_why_it_cannot_run(
    hass: HomeAssistant,
    hass_admin_user: User,
    hub_with_people: MockConfigEntry,
    todoist: FakeTodoist,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Not linked, or owned by a user who is no person: the sync says so (raised when asked
    for, on the status sensor from the timer); a refused token: the timer logs a warning; a
    project deleted before its delayed sync: nothing is asked."""
    await connect(hass, hub_with_people, todoist_token=TODOIST_TOKEN)
    await hass.async_block_till_done()
    sync = makerhub_data(hass).todoist
    projects = makerhub_data(hass).projects
    lamp = projects.saved(projects.registry.create({"name": "Lamp"}, hass_admin_user.id))
    with pytest.raises(TodoistSyncError, match="Lamp is not linked to a Todoist project"):
        await sync.async_sync(lamp.id)

    orphan = await linked_project(hass, "user-who-left", todoist.add_project("Shelf"), "Shelf")
    with pytest.raises(TodoistSyncError, match="the owner of Shelf is not a person"):
        await sync.async_sync(orphan)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=16))
    await hass.async_block_till_done(wait_background_tasks=True)
    status = hass.states.get("sensor.shelf_status")
    assert "the owner of Shelf is not a person" in status.attributes["todoist_error"]
    projects.saved(projects.registry.delete(orphan))

    clock = await linked_project(hass, hass_admin_user.id, todoist.add_project("Clock"))
    tokens = dict(todoist.tokens)
    todoist.tokens.clear()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=32))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert f"Todoist sync of project {clock} failed" in caplog.text
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"{ISSUE_AUTH}_{PERSON}") is not None
    todoist.tokens.update(tokens)

    # A local change schedules a sync a few seconds later; the project is deleted first.
    project = projects.registry.get(clock)
    projects.saved(projects.registry.add_step(clock, "Solder"))
    projects.saved(projects.registry.delete(project.id))
    await hass.async_block_till_done()
    asked = len(todoist.requests)
    caplog.clear()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=32, seconds=CHANGE_DELAY))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(todoist.requests) == asked
    # The projects' own log only: the hub's silent unit is health's business meanwhile.
    assert [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("custom_components.makerhub.projects")
    ] == []


async def test_todoist_deletions_and_steps_that_do_not_fit(
    hass: HomeAssistant,
    hass_admin_user: User,
    hub_with_people: MockConfigEntry,
    todoist: FakeTodoist,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A task deleted in Todoist deletes its step; a task added to a project already at
    the step limit is reported (warning, status sensor) and left in Todoist, next time too."""
    await connect(hass, hub_with_people, todoist_token=TODOIST_TOKEN)
    await hass.async_block_till_done()
    sync = makerhub_data(hass).todoist
    projects = makerhub_data(hass).projects
    remote_id = todoist.add_project("Clock")
    steps = [f"Part {n}" for n in range(MAX_STEPS)]
    clock = await linked_project(hass, hass_admin_user.id, remote_id, steps=steps)
    await sync.async_sync(clock)
    assert len(todoist.live(remote_id)) == MAX_STEPS

    gone = next(t for t in todoist.live(remote_id) if t.content == "Part 7")
    todoist.delete(gone.id)
    await sync.async_sync(clock)
    texts = [s.text for s in projects.registry.get(clock).steps]
    assert len(texts) == MAX_STEPS - 1
    assert "Part 7" not in texts

    projects.saved(projects.registry.add_step(clock, "Part 7 again"))
    await sync.async_sync(clock)
    extra = todoist.add_task(remote_id, "One part too many")
    result = await sync.async_sync(clock)
    assert result.errors == [f"step {result.local_ops[0].step_id}: steps: at most 500 steps"]
    assert "Todoist sync of Clock: step" in caplog.text
    status = hass.states.get("sensor.clock_status")
    assert f"at most {MAX_STEPS} steps" in status.attributes["todoist_error"]
    await sync.async_sync(clock)  # unpaired: tried again, never taken for a local delete
    assert extra.id in {t.id for t in todoist.live(remote_id)}
    assert len(projects.registry.get(clock).steps) == MAX_STEPS


async def test_local_changes_made_while_todoist_answers(
    hass: HomeAssistant,
    hass_admin_user: User,
    hub_with_people: MockConfigEntry,
    todoist: FakeTodoist,
) -> None:
    """A step edited here while a sync waits for Todoist keeps the local edit; a project
    deleted meanwhile is not brought back by the sync's result."""
    await connect(hass, hub_with_people, todoist_token=TODOIST_TOKEN)
    await hass.async_block_till_done()
    sync = makerhub_data(hass).todoist
    projects = makerhub_data(hass).projects
    remote_id = todoist.add_project("Clock")
    clock = await linked_project(hass, hass_admin_user.id, remote_id, steps=["Solder"])
    await sync.async_sync(clock)
    (task,) = todoist.live(remote_id)
    step_id = projects.registry.get(clock).steps[0].id

    async def sync_while(change: Any) -> None:
        """Sync, holding Todoist's first answer back until ``change`` was made here."""
        asked = len(todoist.requests)
        todoist.slow(seconds=1.0)
        running = hass.async_create_task(sync.async_sync(clock))
        while len(todoist.requests) == asked:
            await asyncio.sleep(0.01)
        change()
        await running

    todoist.rename(task.id, "Solder (renamed in Todoist)")
    await sync_while(
        lambda: projects.saved(projects.registry.edit_step(clock, step_id, "Solder (here)"))
    )
    assert [s.text for s in projects.registry.get(clock).steps] == ["Solder (here)"]

    todoist.add_task(remote_id, "Varnish")
    await sync_while(lambda: projects.saved(projects.registry.delete(clock)))
    assert projects.registry.find() == []
    assert clock not in sync._data()["projects"]  # nor is its Todoist snapshot stored
