"""``makerhub/me``: the signed-in member's person, projects, active project, station and
the entity ids of each, for the Me view."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.models import User
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.makerhub.const import DATA_DISPLAY, DOMAIN
from custom_components.makerhub.data import makerhub_data
from custom_components.makerhub.projects.accounts import SERVICE_URLS, Service
from tests.components.makerhub.conftest import UID, unit_subentry
from tests.components.makerhub.presence.conftest import URL, beacon, station
from tests.helpers.fake_todoist import TOKEN as TODOIST_TOKEN, USER as TODOIST_USER, FakeTodoist

from .conftest import ALICE, no_person_token


@pytest.fixture
def hub_subentries() -> list[ConfigSubentryData]:
    """A unit (the laser's screen) and two stations."""
    return [unit_subentry(), station("Bench A", 1)]


async def me(ws: Any) -> dict[str, Any]:
    """Ask ``makerhub/me``; return the answer."""
    await ws.send_json_auto_id({"type": "makerhub/me"})
    answer = await ws.receive_json()
    assert answer["success"], answer
    return dict(answer["result"])


async def create(hass: HomeAssistant, user: User, name: str) -> str:
    """Create a project of ``user``; return its id."""
    response = await hass.services.async_call(
        DOMAIN,
        "create_project",
        {"name": name},
        blocking=True,
        return_response=True,
        context=Context(user_id=user.id),
    )
    await hass.async_block_till_done()
    assert response is not None
    return str(response["id"])


async def test_me_follows_projects_and_station(
    hass: HomeAssistant,
    members: MockConfigEntry,
    hass_admin_user: User,
    hass_ws_client: WebSocketGenerator,
    hass_client: ClientSessionGenerator,
    hass_read_only_user: User,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Before anything: the person, unsigned, no projects, away; then signed, two projects
    (one active, with its entities), at a station with its display's entities."""
    ws = await hass_ws_client(hass)
    answer = await me(ws)
    assert answer["person"] == ALICE
    assert answer["name"] == "Alice"
    assert answer["hub_loaded"] is True
    assert answer["agreement"]["needs_signing"] is True
    assert answer["projects"] == []
    assert answer["active_project"] is None
    assert answer["station"] is None
    assert answer["accounts"] == []
    assert answer["entities"] == {
        "station": "sensor.makerhub_alice_station",
        "tracker": "device_tracker.alice_in_the_space",
        "active_project": "select.makerhub_alice_active_project",
        "agreement": "binary_sensor.makerhub_alice_agreement_signed",
    }

    await makerhub_data(hass).agreements.async_sign(ALICE)
    await makerhub_data(hass).agreements.async_sign("person.bob")
    clock = await create(hass, hass_admin_user, "Clock")
    freezer.tick(timedelta(seconds=1))  # newest first
    lamp = await create(hass, hass_admin_user, "Lamp")
    await create(hass, hass_read_only_user, "Bob's")  # not Alice's
    await hass.services.async_call(
        DOMAIN, "set_active_project", {"person": ALICE, "project": "clock"}, blocking=True
    )
    answer = await me(ws)
    assert answer["agreement"]["signed"] is True
    assert [(p["name"], p["active"], p["status"]) for p in answer["projects"]] == [
        ("Lamp", False, "active"),
        ("Clock", True, "active"),
    ]
    active = answer["active_project"]
    assert active["id"] == clock
    assert active["slug"] == "clock"
    assert active["entities"] == {
        "todo": "todo.clock_steps",
        "status": "sensor.clock_status",
        "cost": "sensor.clock_cost",
        "month_cost": "sensor.clock_cost_this_month",
        "desktop_running": "switch.clock_desktop_running",
        "desktop_state": "sensor.clock_desktop",
        "todoist_sync": "button.clock_sync_with_todoist",
    }
    for entity_id in active["entities"].values():
        assert hass.states.get(entity_id) is not None, entity_id
    assert answer["projects"][0]["id"] == lamp

    # At a station whose display is the unit's device: its entities are listed.
    display = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, UID)})
    assert display is not None
    bench = next(s for s in members.subentries.values() if s.title == "Bench A")
    hass.config_entries.async_update_subentry(
        members, bench, data={**bench.data, DATA_DISPLAY: display.id}
    )
    await hass.async_block_till_done()
    client = await hass_client()
    response = await client.post(URL, json={"beacon": beacon(1), "distance": 0.7})
    assert response.status == 200
    freezer.tick(timedelta(seconds=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    answer = await me(ws)
    place = answer["station"]
    assert place["id"] == bench.subentry_id
    assert place["name"] == "Bench A"
    assert place["display_device_id"] == display.id
    assert "sensor.bench_temperature" in place["display_entities"]
    assert place["entities"] == {
        "occupied": "binary_sensor.bench_a_occupancy",
        "people": "sensor.bench_a_people",
    }
    assert hass.states.get("binary_sensor.bench_a_occupancy").state == "on"


async def test_me_without_a_loaded_hub(
    hass: HomeAssistant, members: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """The projects and agreement still answer; no station, entities unknown are null."""
    assert await hass.config_entries.async_unload(members.entry_id)
    answer = await me(await hass_ws_client(hass))
    assert answer["hub_loaded"] is False
    assert answer["station"] is None
    assert answer["agreement"]["signed"] is False


async def test_a_member_connects_and_forgets_their_own_account(
    hass: HomeAssistant,
    members: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
    hass_storage: dict[str, Any],
    socket_enabled: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Bob (no admin) connects his Todoist account from the Me view: the token is checked
    with Todoist, stored sealed for his person only, shown in ``makerhub/me``, and in no
    log; a refused token says Todoist's reason and stores nothing; forgetting removes it."""
    todoist = FakeTodoist()
    monkeypatch.setitem(SERVICE_URLS, Service.TODOIST, await todoist.start())
    try:
        bob = await hass_client(hass_read_only_access_token)
        url = "/api/makerhub/me/accounts/todoist"
        response = await bob.post(url, json={"token": "wrong-token-0000"})
        assert response.status == 400
        assert "401" in (await response.json())["message"]
        accounts = makerhub_data(hass).accounts
        assert accounts.connected("person.bob") == []
        for body in ({}, {"token": 5}, {"token": "  "}, "x" * 2000):
            response = await bob.post(url, json=body)
            assert response.status == 400
            assert "token" in (await response.json())["message"]
        assert (await bob.post(url, data=b"{no json")).status == 400
        assert (
            await bob.post("/api/makerhub/me/accounts/gitlab", json={"token": "t"})
        ).status == 404

        response = await bob.post(url, json={"token": f" {TODOIST_TOKEN} "})
        assert response.status == 200
        assert await response.json() == {
            "service": "todoist",
            "connected": True,
            "account": TODOIST_USER,
            "accounts": ["todoist"],
        }
        assert accounts.token("person.bob", Service.TODOIST) == TODOIST_TOKEN
        assert accounts.connected(ALICE) == []
        assert TODOIST_TOKEN not in str(hass_storage["makerhub.accounts"])  # sealed
        ws = await hass_ws_client(hass, hass_read_only_access_token)
        assert (await me(ws))["accounts"] == ["todoist"]

        response = await bob.delete(url)
        assert (await response.json())["accounts"] == []
        assert accounts.token("person.bob", Service.TODOIST) is None
        assert TODOIST_TOKEN not in caplog.text
    finally:
        await todoist.stop()


async def test_accounts_need_a_person(
    hass: HomeAssistant, members: MockConfigEntry, hass_client: ClientSessionGenerator
) -> None:
    """A user linked to no person has no accounts to connect; anonymous callers get 401."""
    kiosk = await hass_client(await no_person_token(hass))
    response = await kiosk.delete("/api/makerhub/me/accounts/github")
    assert response.status == 403
    assert "linked to no person" in (await response.json())["message"]
    anonymous = await hass_client(None)
    assert (await anonymous.delete("/api/makerhub/me/accounts/github")).status == 401
