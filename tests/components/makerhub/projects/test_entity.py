"""Each project as a device: its to-do list of steps, status and cost sensors, and the
space's totals; devices follow projects as they come, change and go."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.models import User
from homeassistant.components.todo import DOMAIN as TODO_DOMAIN
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import MqttMockHAClient, WebSocketGenerator

from custom_components.makerhub.const import DOMAIN
from custom_components.makerhub.data import makerhub_data
from custom_components.makerhub.devices import project_device_id

TODO = "todo.clock_steps"


@pytest.fixture
async def people(hass: HomeAssistant, hass_admin_user: User) -> None:
    """Alice, who is the admin user."""
    assert await async_setup_component(
        hass,
        "person",
        {"person": [{"id": "alice", "name": "Alice", "user_id": hass_admin_user.id}]},
    )


async def create(hass: HomeAssistant, user: User, name: str, **fields: Any) -> dict[str, Any]:
    """Create a project with the action (its owner Alice, who signs the agreement first);
    return it."""
    await makerhub_data(hass).agreements.async_sign("person.alice")
    response = await hass.services.async_call(
        DOMAIN,
        "create_project",
        {"name": name, **fields},
        blocking=True,
        return_response=True,
        context=Context(user_id=user.id),
    )
    await hass.async_block_till_done()
    assert response is not None
    return response  # type: ignore[return-value]


async def items(hass: HomeAssistant) -> list[tuple[str, str]]:
    """Return the to-do items as (summary, status)."""
    response = await hass.services.async_call(
        TODO_DOMAIN, "get_items", {"entity_id": TODO}, blocking=True, return_response=True
    )
    return [(i["summary"], i["status"]) for i in response[TODO]["items"]]  # type: ignore[index,union-attr]


async def test_todo_list_edits_steps(
    hass: HomeAssistant,
    people: None,
    hass_admin_user: User,
    hub: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Add, rename, complete, move and remove steps from Home Assistant's to-do list."""
    project = await create(hass, hass_admin_user, "Clock", steps=["Cut the case", "Solder"])
    assert hass.states.get(TODO).state == "2"
    assert await items(hass) == [("Cut the case", "needs_action"), ("Solder", "needs_action")]

    await hass.services.async_call(
        TODO_DOMAIN, "add_item", {"entity_id": TODO, "item": "Flash"}, blocking=True
    )
    await hass.services.async_call(
        TODO_DOMAIN,
        "update_item",
        {"entity_id": TODO, "item": "Solder", "rename": "Solder the board", "status": "completed"},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert await items(hass) == [
        ("Cut the case", "needs_action"),
        ("Solder the board", "completed"),
        ("Flash", "needs_action"),
    ]
    assert hass.states.get(TODO).state == "2"
    steps = makerhub_data(hass).projects.registry.get(project["id"]).steps
    assert [s.done for s in steps] == [False, True, False]

    client = await hass_ws_client(hass)
    ids = [s.id for s in steps]
    await client.send_json_auto_id({"type": "todo/item/move", "entity_id": TODO, "uid": ids[2]})
    assert (await client.receive_json())["success"]
    await client.send_json_auto_id(
        {"type": "todo/item/move", "entity_id": TODO, "uid": ids[0], "previous_uid": ids[1]}
    )
    assert (await client.receive_json())["success"]
    assert [s for s, _ in await items(hass)] == ["Flash", "Solder the board", "Cut the case"]
    await client.send_json_auto_id(
        {"type": "todo/item/move", "entity_id": TODO, "uid": ids[0], "previous_uid": "nope"}
    )
    answer = await client.receive_json()
    assert not answer["success"]
    assert "nope" in answer["error"]["message"]

    await hass.services.async_call(
        TODO_DOMAIN, "remove_item", {"entity_id": TODO, "item": ["Flash"]}, blocking=True
    )
    assert [s for s, _ in await items(hass)] == ["Solder the board", "Cut the case"]
    # Bad input: an empty summary is refused with the field's message; nothing changes.
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            TODO_DOMAIN, "add_item", {"entity_id": TODO, "item": " "}, blocking=True
        )
    assert err.value.translation_key == "invalid_project_input"
    entity = hass.data["entity_components"][TODO_DOMAIN].get_entity(TODO)
    with pytest.raises(ServiceValidationError) as err:
        await entity.async_delete_todo_items(["nope"])
    assert err.value.translation_key == "unknown_step"
    with pytest.raises(ServiceValidationError) as err:
        await entity.async_move_todo_item("nope")
    assert err.value.translation_key == "unknown_step"
    assert [s for s, _ in await items(hass)] == ["Solder the board", "Cut the case"]

    # Another (non-admin) user may read the list but not change someone else's project.
    bob = await hass.auth.async_create_user("Bob", group_ids=["system-users"])
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            TODO_DOMAIN,
            "add_item",
            {"entity_id": TODO, "item": "Sneaky"},
            blocking=True,
            context=Context(user_id=bob.id),
        )
    assert err.value.translation_key == "not_your_project"
    assert [s for s, _ in await items(hass)] == ["Solder the board", "Cut the case"]


@pytest.mark.freeze_time("2026-11-30 12:00:00+00:00")
async def test_status_cost_and_space_sensors(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    people: None,
    hass_admin_user: User,
    hub: MockConfigEntry,
) -> None:
    """Status with progress; cost in the home currency; the space's totals this month.

    The clock is frozen before the hub is set up (``freezer`` comes first), so the hub
    schedules its midnights from the test's date, not from the day the suite runs."""
    currency = hass.config.currency
    clock = await create(hass, hass_admin_user, "Clock", steps=["A", "B"])
    lamp = await create(hass, hass_admin_user, "Lamp")
    for project, amount, when, code in (
        (clock, "12.50", "2026-11-02", currency),
        (clock, "7.25", "2026-10-30", currency),
        (clock, "3", "2026-11-03", "XYZ"),
        (lamp, "1.10", "2026-11-29", currency),
    ):
        await hass.services.async_call(
            DOMAIN,
            "log_expense",
            {"project": project["slug"], "amount": amount, "date": when, "currency": code},
            blocking=True,
            return_response=True,
        )
    await hass.async_block_till_done()
    status = hass.states.get("sensor.clock_status")
    assert status.state == "active"
    assert status.attributes["steps_done"] == 0
    assert status.attributes["steps_total"] == 2
    assert status.attributes["options"] == ["active", "paused", "archived"]
    cost = hass.states.get("sensor.clock_cost")
    assert cost.state == "19.75"
    assert cost.attributes["unit_of_measurement"] == currency
    assert cost.attributes["monthly_total"] == 12.5
    assert cost.attributes["other_currencies"] == {"XYZ": "3"}
    assert hass.states.get("sensor.makerhub_active_projects").state == "2"
    spend = hass.states.get("sensor.makerhub_project_spend_this_month")
    assert spend.state == "13.60"
    assert spend.attributes["projects"] == {"clock": "12.50", "lamp": "1.10"}
    assert spend.attributes["other_currencies"] == {"XYZ": "3"}
    assert spend.attributes["last_reset"] == "2026-11-01T00:00:00-07:00"

    projects = makerhub_data(hass).projects
    projects.saved(projects.registry.update(lamp["id"], {"status": "paused"}))
    await hass.async_block_till_done()
    assert hass.states.get("sensor.lamp_status").state == "paused"
    assert hass.states.get("sensor.makerhub_active_projects").state == "1"

    # At midnight on the 1st the month starts again.
    freezer.move_to("2026-12-01 08:00:01+00:00")
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done()
    assert dt_util.now().date() == date(2026, 12, 1)
    assert hass.states.get("sensor.makerhub_project_spend_this_month").state == "0"


async def test_devices_follow_projects(
    hass: HomeAssistant,
    people: None,
    hass_admin_user: User,
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """A project's device is renamed with it and removed with it, also across restarts."""
    assert await async_setup_component(hass, DOMAIN, {})
    projects = makerhub_data(hass).projects
    early = projects.saved(projects.registry.create({"name": "Early"}, hass_admin_user.id))
    hub_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    identifier = {(DOMAIN, project_device_id(early.id))}
    device = device_registry.async_get_device(identifier)
    assert device is not None
    assert device.name == "Early"
    assert device.model == "Project"
    assert hass.states.get("todo.early_steps") is not None
    assert hass.states.get("button.early_sync_with_todoist").state == "unavailable"

    projects.saved(
        projects.registry.update(
            early.id, {"name": "Later", "github_url": "https://github.com/alice/later"}
        )
    )
    await hass.async_block_till_done()
    device = device_registry.async_get_device(identifier)
    assert device is not None
    assert (device.name, device.configuration_url) == ("Later", "https://github.com/alice/later")

    projects.saved(projects.registry.delete(early.id))
    await hass.async_block_till_done()
    assert device_registry.async_get_device(identifier) is None
    assert entity_registry.async_get("todo.early_steps") is None
    assert hass.states.get("todo.early_steps") is None

    # A project deleted while the hub was down loses its device at the next start.
    gone = projects.saved(projects.registry.create({"name": "Gone"}, hass_admin_user.id))
    await hass.async_block_till_done()
    gone_device = {(DOMAIN, project_device_id(gone.id))}
    assert device_registry.async_get_device(gone_device) is not None
    assert await hass.config_entries.async_unload(hub_entry.entry_id)
    projects.registry.delete(gone.id)
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    assert device_registry.async_get_device(gone_device) is None
    assert await hass.config_entries.async_unload(hub_entry.entry_id)


@pytest.fixture
def started_at(request: pytest.FixtureRequest, freezer: FrozenDateTimeFactory) -> datetime:
    """The moment the hub is set up (request it before ``hub``)."""
    moment = datetime.fromisoformat(request.param)
    freezer.move_to(moment)
    return moment


async def midnight(hass: HomeAssistant, freezer: FrozenDateTimeFactory, day: date) -> None:
    """Let the clock pass local midnight at the start of ``day``."""
    moment = datetime.combine(day, time(0, 0, 1), dt_util.get_default_time_zone())
    freezer.move_to(moment)
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done()


@pytest.mark.parametrize(
    ("started_at", "first_of_next_month"),
    [
        ("2031-06-17T13:45:00-07:00", date(2031, 7, 1)),  # the middle of a month
        ("2030-12-30T23:59:30-08:00", date(2031, 1, 1)),  # a new year
        ("2032-02-27T09:00:00-08:00", date(2032, 3, 1)),  # past a leap day
        ("2029-03-31T00:00:00-07:00", date(2029, 4, 1)),  # set up at midnight, last day
    ],
    indirect=["started_at"],
)
async def test_month_starts_again_whenever_the_hub_was_started(
    started_at: datetime,
    first_of_next_month: date,
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    people: None,
    hass_admin_user: User,
    hub: MockConfigEntry,
) -> None:
    """The space's spend and each project's monthly total start again at the first
    midnight of the next month, and not at any midnight before it, from any start."""
    clock = await create(hass, hass_admin_user, "Clock")
    await hass.services.async_call(
        DOMAIN,
        "log_expense",
        {
            "project": clock["slug"],
            "amount": "5",
            "currency": hass.config.currency,
            "date": dt_util.now().date(),
        },
        blocking=True,
        return_response=True,
    )
    await hass.async_block_till_done()
    spend = "sensor.makerhub_project_spend_this_month"
    this_month = dt_util.start_of_local_day(dt_util.now().date().replace(day=1))
    assert hass.states.get(spend).state == "5"
    assert hass.states.get(spend).attributes["last_reset"] == this_month.isoformat()

    day = started_at.date() + timedelta(days=1)
    while day < first_of_next_month:
        await midnight(hass, freezer, day)
        assert hass.states.get(spend).state == "5", day
        assert hass.states.get("sensor.clock_cost").attributes["monthly_total"] == 5.0
        day += timedelta(days=1)

    await midnight(hass, freezer, first_of_next_month)
    state = hass.states.get(spend)
    assert state.state == "0"
    assert state.attributes["last_reset"] == (
        dt_util.start_of_local_day(first_of_next_month).isoformat()
    )
    assert hass.states.get("sensor.clock_cost").state == "5"
    assert hass.states.get("sensor.clock_cost").attributes["monthly_total"] == 0.0
