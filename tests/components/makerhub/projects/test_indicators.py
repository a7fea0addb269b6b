"""The big screen's success indicators from projects: steps done this week, projects
finished this month, each project's cost this month and the budget used, each starting
again at the week's or month's first midnight (the clock frozen and moved)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.models import User
from homeassistant.components.sensor import ATTR_LAST_RESET, ATTR_STATE_CLASS
from homeassistant.core import Context, HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.makerhub.const import CONF_MONTHLY_BUDGET, DOMAIN
from custom_components.makerhub.data import makerhub_data
from tests.components.makerhub.conftest import HUB_OPTIONS

STEPS = "sensor.makerhub_steps_done_this_week"
FINISHED = "sensor.makerhub_projects_finished_this_month"
BUDGET = "sensor.makerhub_budget_used_this_month"
CLOCK_MONTH = "sensor.clock_cost_this_month"


@pytest.fixture
def hub_options() -> dict[str, Any]:
    """A budget of 200 a month."""
    return {**HUB_OPTIONS, CONF_MONTHLY_BUDGET: 200.0}


def local(day: date, at: time = time(0, 0, 1)) -> datetime:
    """Return a local time of Home Assistant's time zone."""
    return datetime.combine(day, at, dt_util.get_default_time_zone())


async def move(hass: HomeAssistant, freezer: FrozenDateTimeFactory, moment: datetime) -> None:
    """Move the clock to ``moment`` and let the timers due by then run."""
    freezer.move_to(moment)
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done()


@pytest.fixture
async def space(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    hass_admin_user: User,
    hub_entry: MockConfigEntry,
    mqtt_mock: Any,
) -> MockConfigEntry:
    """Wednesday 9 December 2026, noon: Alice (signed) and the hub (frozen before it
    starts, so its midnights are the test's)."""
    freezer.move_to(local(date(2026, 12, 9), time(12, 0)))
    assert await async_setup_component(
        hass,
        "person",
        {"person": [{"id": "alice", "name": "Alice", "user_id": hass_admin_user.id}]},
    )
    hub_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    await makerhub_data(hass).agreements.async_sign("person.alice")
    return hub_entry


async def call(hass: HomeAssistant, user: User, action: str, **data: Any) -> dict[str, Any]:
    """Call a projects action as ``user``; return its answer."""
    response = await hass.services.async_call(
        DOMAIN, action, data, blocking=True, return_response=True, context=Context(user_id=user.id)
    )
    await hass.async_block_till_done()
    assert response is not None
    return dict(response)


def value(hass: HomeAssistant, entity_id: str) -> str:
    """Return an entity's state."""
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


async def test_indicators_count_and_start_again(
    hass: HomeAssistant,
    space: MockConfigEntry,
    hass_admin_user: User,
    hass_ws_client: WebSocketGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Steps done count in their week, finished projects and costs in their month, against
    the budget; the week starts again on Monday, the month on the 1st."""
    currency = hass.config.currency
    clock = await call(hass, hass_admin_user, "create_project", name="Clock", steps=["A", "B", "C"])
    lamp = await call(hass, hass_admin_user, "create_project", name="Lamp", steps=["Wire"])
    assert value(hass, STEPS) == "0"
    state = hass.states.get(STEPS)
    assert state.attributes[ATTR_STATE_CLASS] == "total"
    assert state.attributes[ATTR_LAST_RESET] == local(date(2026, 12, 7), time(0)).isoformat()

    ws = await hass_ws_client(hass)
    for project, step in ((clock, 0), (clock, 1), (lamp, 0)):
        await ws.send_json_auto_id(
            {
                "type": "makerhub/projects/steps/update",
                "project_id": project["id"],
                "step_id": project["steps"][step]["id"],
                "done": True,
            }
        )
        assert (await ws.receive_json())["success"]
    await hass.async_block_till_done()
    assert value(hass, STEPS) == "3"
    # Undone: it no longer counts.
    await ws.send_json_auto_id(
        {
            "type": "makerhub/projects/steps/update",
            "project_id": lamp["id"],
            "step_id": lamp["steps"][0]["id"],
            "done": False,
        }
    )
    assert (await ws.receive_json())["success"]
    await hass.async_block_till_done()
    assert value(hass, STEPS) == "2"

    # Costs this month, against the budget of 200.
    await call(
        hass, hass_admin_user, "log_expense", project="clock", amount="50", currency=currency
    )
    await call(hass, hass_admin_user, "log_expense", project="lamp", amount="30", currency=currency)
    await call(hass, hass_admin_user, "log_expense", project="lamp", amount="9", currency="XYZ")
    await call(
        hass,
        hass_admin_user,
        "log_expense",
        project="clock",
        amount="1000",
        currency=currency,
        date=date(2026, 11, 30),
    )  # last month: counts in no sensor of this month
    state = hass.states.get(CLOCK_MONTH)
    assert state.state == "50"
    assert state.attributes["unit_of_measurement"] == currency
    assert state.attributes[ATTR_STATE_CLASS] == "total"
    assert state.attributes[ATTR_LAST_RESET] == local(date(2026, 12, 1), time(0)).isoformat()
    assert value(hass, "sensor.lamp_cost_this_month") == "30"
    budget = hass.states.get(BUDGET)
    assert budget.state == "40.0"
    assert budget.attributes["unit_of_measurement"] == "%"
    assert budget.attributes[ATTR_STATE_CLASS] == "measurement"
    assert budget.attributes["budget"] == 200.0
    assert budget.attributes["spend"] == 80.0
    assert budget.attributes["remaining"] == 120.0
    assert budget.attributes["currency"] == currency

    # Finishing a project is archiving it.
    assert value(hass, FINISHED) == "0"
    await ws.send_json_auto_id({"type": "makerhub/projects/archive", "project_id": lamp["id"]})
    assert (await ws.receive_json())["success"]
    await hass.async_block_till_done()
    assert value(hass, FINISHED) == "1"
    assert hass.states.get(FINISHED).attributes["projects"] == ["lamp"]

    # Sunday midnight: nothing starts again yet; Monday's: the week does.
    await move(hass, freezer, local(date(2026, 12, 13)))
    assert value(hass, STEPS) == "2"
    await move(hass, freezer, local(date(2026, 12, 14)))
    assert value(hass, STEPS) == "0"
    assert hass.states.get(STEPS).attributes[ATTR_LAST_RESET] == (
        local(date(2026, 12, 14), time(0)).isoformat()
    )
    assert value(hass, FINISHED) == "1"
    assert value(hass, CLOCK_MONTH) == "50"

    # The 1st of January: the month does.
    await move(hass, freezer, local(date(2027, 1, 1)))
    assert value(hass, FINISHED) == "0"
    assert value(hass, CLOCK_MONTH) == "0"
    assert value(hass, BUDGET) == "0.0"
    assert hass.states.get(CLOCK_MONTH).attributes[ATTR_LAST_RESET] == (
        local(date(2027, 1, 1), time(0)).isoformat()
    )


async def test_no_budget_leaves_budget_used_unknown(
    hass: HomeAssistant,
    space: MockConfigEntry,
    hass_admin_user: User,
) -> None:
    """Without a budget the share is unknown; the spend is still shown."""
    hass.config_entries.async_update_entry(
        space, options={**space.options, CONF_MONTHLY_BUDGET: 0.0}
    )
    await hass.async_block_till_done()
    await call(hass, hass_admin_user, "create_project", name="Clock")
    await call(
        hass,
        hass_admin_user,
        "log_expense",
        project="clock",
        amount="5",
        currency=hass.config.currency,
    )
    state = hass.states.get(BUDGET)
    assert state.state == "unknown"
    assert state.attributes["budget"] is None
    assert state.attributes["remaining"] is None
    assert state.attributes["spend"] == 5.0
