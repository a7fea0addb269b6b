"""Projects in Home Assistant: the REST API, its permissions, the WebSocket commands, storage."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from homeassistant.auth.models import User
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
    flush_store,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    MqttMockHAClient,
    WebSocketGenerator,
)
import yaml

from custom_components.makerhub.const import DOMAIN, EVENT_PROJECT_SWITCHED
from custom_components.makerhub.data import makerhub_data
from custom_components.makerhub.projects.api import (
    ProjectActionView,
    ProjectListView,
    ProjectStepView,
    ProjectView,
)
from tests.components.makerhub.conftest import store_signed_agreement

ROOT = Path(__file__).resolve().parents[4]
API = "/api/makerhub/projects"
HTTPS = "must be an https:// URL"
INVALID = "invalid_project_input"


async def call(client: Any, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """Call the API; return the status and the JSON answer."""
    response = await client.request(method, f"{API}{path}", json=body)
    return response.status, await response.json()


async def test_api_lifecycle(
    hass: HomeAssistant,
    setup: None,
    hass_admin_user: User,
    hass_client: ClientSessionGenerator,
) -> None:
    """Create, read, change, steps, expenses, archive, delete; all stored."""
    client = await hass_client()
    status, project = await call(
        client, "POST", "", {"name": "Robot arm", "steps": ["Print the base", "Wire"]}
    )
    assert status == 201
    assert project["owner"] == hass_admin_user.id
    pid = project["id"]
    assert (await call(client, "GET", ""))[1][0]["id"] == pid
    assert (await call(client, "GET", f"?owner={hass_admin_user.id}&status=active"))[1] != []
    assert (await call(client, "GET", "?status=archived"))[1] == []
    assert (await call(client, "GET", f"/{pid}"))[1]["name"] == "Robot arm"

    status, project = await call(client, "PATCH", f"/{pid}", {"description": "6 axes"})
    assert status == 200
    assert project["description"] == "6 axes"
    status, project = await call(client, "POST", f"/{pid}/steps", {"text": "Calibrate"})
    assert [s["text"] for s in project["steps"]] == ["Print the base", "Wire", "Calibrate"]
    ids = [s["id"] for s in project["steps"]]
    status, project = await call(client, "POST", f"/{pid}/reorder", {"order": ids[::-1]})
    assert [s["text"] for s in project["steps"]] == ["Calibrate", "Wire", "Print the base"]
    status, project = await call(client, "POST", f"/{pid}/steps/{ids[0]}")
    assert next(s for s in project["steps"] if s["id"] == ids[0])["done"] is True
    status, project = await call(
        client, "PATCH", f"/{pid}/steps/{ids[1]}", {"text": "Wire it", "position": 0}
    )
    assert project["steps"][0]["text"] == "Wire it"
    status, project = await call(client, "DELETE", f"/{pid}/steps/{ids[2]}")
    assert len(project["steps"]) == 2
    assert (await call(client, "GET", f"/{pid}/steps"))[1] == project["steps"]

    status, expense = await call(
        client, "POST", f"/{pid}/expenses", {"amount": "12.50", "currency": "EUR", "note": "servo"}
    )
    assert status == 201
    assert expense["amount"] == "12.50"
    assert expense["date"] == dt_util.now().date().isoformat()
    assert (await call(client, "GET", f"/{pid}/expenses"))[1] == [expense]

    status, project = await call(client, "POST", f"/{pid}/archive", {})
    assert project["status"] == "archived"

    # Everything is saved to .storage (debounced).
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=2))
    await hass.async_block_till_done()
    stored = makerhub_data(hass).projects._store
    await flush_store(stored)
    data = await stored.async_load()
    assert data is not None
    assert data["projects"][0]["status"] == "archived"
    assert data["projects"][0]["expenses"][0]["note"] == "servo"

    status, _ = await call(client, "DELETE", f"/{pid}")
    assert status == 200
    assert (await call(client, "GET", f"/{pid}"))[0] == 404


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "errors"),
    [
        ("POST", "", {"description": "no name"}, 400, {"name": "required"}),
        ("POST", "", {"name": "x", "colour": 1}, 400, {"colour": "unknown field"}),
        ("POST", "", "not an object", 400, {"body": "must be a JSON object"}),
        ("GET", "?status=nope", None, 400, {"status": "one of active, paused, archived"}),
        (
            "PATCH",
            "/{pid}",
            {"github_url": "ftp://x"},
            400,
            {"github_url": "must be an https:// URL"},
        ),
        ("POST", "/{pid}/expenses", {"amount": 0, "currency": "EUR"}, 400, None),
        ("POST", "/{pid}/steps", [], 400, {"body": "an object"}),
        ("PATCH", "/{pid}/steps/x", {"colour": 1}, 400, None),
        ("POST", "/{pid}/nothing", {}, 404, None),
        ("GET", "/{pid}/nothing", None, 404, None),
        ("GET", "/nope", None, 404, None),
        ("POST", "/{pid}/steps/nope", None, 404, None),
    ],
)
async def test_api_refuses(
    hass: HomeAssistant,
    setup: None,
    hass_client: ClientSessionGenerator,
    method: str,
    path: str,
    body: Any,
    status: int,
    errors: dict[str, str] | None,
) -> None:
    """Bad requests get 400 with field-level messages; unknown ids 404."""
    client = await hass_client()
    _, project = await call(client, "POST", "", {"name": "Lamp"})
    got, answer = await call(client, method, path.format(pid=project["id"]), body)
    assert got == status
    if errors is not None:
        assert answer["errors"] == errors


async def test_api_bad_json_and_size(
    hass: HomeAssistant, setup: None, hass_client: ClientSessionGenerator
) -> None:
    """A body that is not JSON, or too big, is refused."""
    client = await hass_client()
    response = await client.post(API, data=b"{nope")
    assert response.status == 400
    assert (await response.json())["errors"] == {"body": "not JSON"}
    response = await client.post(API, data=b" " * 70_000)
    assert response.status == 400
    _, project = await call(client, "POST", "", {"name": "Lamp"})
    response = await client.patch(f"{API}/{project['id']}", data=b"{nope")
    assert response.status == 400


async def test_api_auth_and_ownership(
    hass: HomeAssistant,
    setup: None,
    hass_admin_user: User,
    hass_read_only_user: User,
    hass_read_only_access_token: str,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """401 without a token; a non-admin changes only their own projects (403 otherwise)."""
    anonymous = await hass_client_no_auth()
    assert (await anonymous.get(API)).status == 401
    admin = await hass_client()
    _, admins = await call(admin, "POST", "", {"name": "Admin's"})
    member = await hass_client(hass_read_only_access_token)
    status, own = await call(member, "POST", "", {"name": "Mine"})
    assert status == 201
    assert own["owner"] == hass_read_only_user.id
    assert (await call(member, "PATCH", f"/{own['id']}", {"description": "ok"}))[0] == 200
    for method, path, body in (
        ("PATCH", f"/{admins['id']}", {"description": "no"}),
        ("DELETE", f"/{admins['id']}", None),
        ("POST", f"/{admins['id']}/steps", {"text": "no"}),
        ("POST", "", {"name": "For admin", "owner": hass_admin_user.id}),
    ):
        status, answer = await call(member, method, path, body)
        assert status == 403, (method, path)
        assert "admin" in answer["message"]
    assert (await call(member, "GET", f"/{admins['id']}"))[0] == 200  # reading is open
    # An admin may change anyone's, and create for others.
    assert (await call(admin, "PATCH", f"/{own['id']}", {"status": "paused"}))[0] == 200
    status, theirs = await call(
        admin, "POST", "", {"name": "Gift", "owner": hass_read_only_user.id}
    )
    assert theirs["owner"] == hass_read_only_user.id


def test_openapi_describes_every_route() -> None:
    """docs/projects-openapi.yaml names every view's URL."""
    spec = yaml.safe_load((ROOT / "docs" / "projects-openapi.yaml").read_text())
    urls = {view.url for view in (ProjectListView, ProjectView, ProjectActionView, ProjectStepView)}
    assert urls == set(spec["paths"])


async def test_websocket_commands(
    hass: HomeAssistant,
    setup: None,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
    hass_read_only_user: User,
) -> None:
    """The frontend's commands mirror the API, with the same checks."""
    ws = await hass_ws_client(hass)

    async def send(command: str, **data: Any) -> dict[str, Any]:
        await ws.send_json_auto_id({"type": f"makerhub/projects/{command}", **data})
        return dict(await ws.receive_json())

    created = await send("create", project={"name": "Clock", "steps": ["Cut"]})
    assert created["success"]
    pid = created["result"]["id"]
    step = created["result"]["steps"][0]["id"]
    assert (await send("list"))["result"][0]["id"] == pid
    assert (await send("get", project_id=pid))["result"]["name"] == "Clock"
    assert (await send("update", project_id=pid, changes={"status": "paused"}))["result"][
        "status"
    ] == "paused"
    added = await send("steps/add", project_id=pid, text="Glue", position=0)
    assert [s["text"] for s in added["result"]["steps"]] == ["Glue", "Cut"]
    done = await send("steps/update", project_id=pid, step_id=step, done=True)
    assert done["result"]["steps"][1]["done"] is True
    moved = await send("steps/move", project_id=pid, step_id=step, position=0)
    assert moved["result"]["steps"][0]["id"] == step
    expense = await send("expenses/add", project_id=pid, expense={"amount": 3, "currency": "EUR"})
    assert expense["result"]["amount"] == "3"
    assert (await send("steps/delete", project_id=pid, step_id=step))["success"]
    assert (await send("archive", project_id=pid))["result"]["status"] == "archived"

    bad = await send("update", project_id=pid, changes={"name": ""})
    assert bad["error"]["code"] == "invalid_format"
    assert "name" in bad["error"]["message"]
    assert (await send("get", project_id="nope"))["error"]["code"] == "not_found"

    member = await hass_ws_client(hass, hass_read_only_access_token)
    await member.send_json_auto_id({"type": "makerhub/projects/delete", "project_id": pid})
    assert (await member.receive_json())["error"]["code"] == "unauthorized"
    await member.send_json_auto_id(
        {"type": "makerhub/projects/create", "project": {"name": "x", "owner": "someone"}}
    )
    assert (await member.receive_json())["error"]["code"] == "unauthorized"
    await member.send_json_auto_id(
        {"type": "makerhub/projects/create", "project": {"name": "Mine"}}
    )
    assert (await member.receive_json())["result"]["owner"] == hass_read_only_user.id
    assert (await send("delete", project_id=pid))["success"]


async def test_active_project(
    hass: HomeAssistant,
    hass_admin_user: User,
    hass_read_only_user: User,
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Each person picks one of their projects; the event and the retained topic follow."""
    store_signed_agreement(hass_storage, "person.alice")
    assert await async_setup_component(
        hass,
        "person",
        {"person": [{"id": "alice", "name": "Alice", "user_id": hass_admin_user.id}]},
    )
    hub_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    events = async_capture_events(hass, EVENT_PROJECT_SWITCHED)
    admin = Context(user_id=hass_admin_user.id)
    created = [
        await hass.services.async_call(
            DOMAIN,
            "create_project",
            {"name": name},
            blocking=True,
            return_response=True,
            context=admin,
        )
        for name in ("Clock", "Lamp", "Lamp")
    ]
    await hass.services.async_call(
        DOMAIN, "create_project", {"name": "Not hers", "owner": hass_read_only_user.id},
        blocking=True, return_response=True,
    )  # fmt: skip
    await hass.async_block_till_done()
    select = "select.makerhub_alice_active_project"
    state = hass.states.get(select)
    assert state.state == "none"
    assert state.attributes["options"] == ["none", "Lamp (lamp-2)", "Lamp (lamp)", "Clock"]

    await hass.services.async_call(
        "select", "select_option", {"entity_id": select, "option": "Clock"}, blocking=True
    )
    await hass.async_block_till_done()
    assert hass.states.get(select).state == "Clock"
    assert [(e.data["from"], e.data["to"]) for e in events] == [(None, "clock")]
    mqtt_mock.async_publish.assert_any_call("makerhub/space/people/alice/project", "clock", 1, True)

    response = await hass.services.async_call(
        DOMAIN, "set_active_project", {"person": "person.alice", "project": "lamp"},
        blocking=True, return_response=True, context=admin,
    )  # fmt: skip
    assert response is not None
    assert response["project"]["slug"] == "lamp"
    assert hass.states.get(select).state == "Lamp (lamp)"
    await hass.services.async_call(
        DOMAIN, "set_active_project", {"person": "person.alice", "project": "none"},
        blocking=True, return_response=True,
    )  # fmt: skip
    await hass.async_block_till_done()
    assert hass.states.get(select).state == "none"
    assert [e.data["to"] for e in events] == ["clock", "lamp", None]
    mqtt_mock.async_publish.assert_any_call("makerhub/space/people/alice/project", "", 1, True)
    assert makerhub_data(hass).projects.active == {}

    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "set_active_project", {"person": "person.alice", "project": "not-hers"},
            blocking=True, return_response=True,
        )  # fmt: skip
    assert err.value.translation_key == INVALID
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "set_active_project", {"person": "person.alice", "project": "clock"},
            blocking=True, return_response=True, context=Context(user_id=hass_read_only_user.id),
        )  # fmt: skip
    assert err.value.translation_key == "not_your_person"
    # Archived projects are no choice; the same choice again changes nothing.
    await hass.services.async_call(
        DOMAIN, "set_active_project", {"person": "person.alice", "project": "clock"},
        blocking=True, return_response=True,
    )  # fmt: skip
    await hass.services.async_call(
        DOMAIN, "set_active_project", {"person": "person.alice", "project": "clock"},
        blocking=True, return_response=True,
    )  # fmt: skip
    assert len(events) == 4
    makerhub_data(hass).projects.registry.archive(created[1]["id"])
    makerhub_data(hass).projects.saved(None)
    await hass.async_block_till_done()
    assert "Lamp (lamp)" not in hass.states.get(select).attributes["options"]
    assert await hass.config_entries.async_unload(hub_entry.entry_id)
