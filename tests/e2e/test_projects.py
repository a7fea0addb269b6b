"""Projects end to end: a real hass process, its REST API with real tokens, a restart."""

from __future__ import annotations

import asyncio

import pytest

from dev.processes.hass_process import HassApiError, HassClient, HassProcess
from dev.processes.mosquitto import MosquittoBroker

pytestmark = pytest.mark.e2e


async def test_projects_over_rest_survive_a_restart(
    hass_api: HassClient, hass_process: HassProcess, mosquitto: MosquittoBroker
) -> None:
    """Create a project with steps and an expense over REST; it is there after a restart."""
    client = hass_api
    await client.call_service("makerhub", "sign_agreement", {})  # a member's first project
    project = await client.post(
        "/api/makerhub/projects",
        {"name": "Robot arm", "space_use": "3D printer", "steps": ["Print", "Wire"]},
    )
    pid = project["id"]
    await client.post(f"/api/makerhub/projects/{pid}/steps", {"text": "Calibrate"})
    step = project["steps"][0]["id"]
    await client.post(f"/api/makerhub/projects/{pid}/steps/{step}", {})
    expense = await client.post(
        f"/api/makerhub/projects/{pid}/expenses", {"amount": "9.90", "currency": "EUR"}
    )
    with pytest.raises(HassApiError, match="400"):
        await client.post("/api/makerhub/projects", {"name": ""})

    # The project is a device with a to-do list of its steps, editable from HA's to-do UI.
    todo = "todo.robot_arm_steps"
    await client.wait_for(
        lambda: client.state(todo),
        lambda state: state is not None and state["state"] == "2",
        30,
        "the project's to-do list with two open steps",
    )
    await client.call_service("todo", "add_item", {"entity_id": todo, "item": "Paint"})
    cost = await client.wait_for(
        lambda: client.state("sensor.robot_arm_cost"),
        lambda state: state is not None and state["state"] == "9.90",
        30,
        "the project's cost sensor",
    )
    assert cost["attributes"]["monthly_total"] == 9.9

    # The owner's person switches to it: devices listening on the broker learn it.
    select = "select.makerhub_developer_active_project"
    await client.wait_for(
        lambda: client.state(select),
        lambda state: state is not None and "Robot arm" in state["attributes"]["options"],
        30,
        "the project among the person's choices",
    )
    await client.call_service(
        "select", "select_option", {"entity_id": select, "option": "Robot arm"}
    )
    held = await client.wait_for(
        lambda: asyncio.to_thread(mosquitto.retained, "makerhub/space/people/+/project"),
        lambda held: held.get("makerhub/space/people/developer/project") == "robot-arm",
        30,
        "the retained active-project message",
    )
    assert held

    await client.close()
    assert hass_process.stop() == 0  # storage is written on the way down
    hass_process.start()
    client = HassClient(hass_process)
    try:
        await client.login()
        await client.wait_running()
        again = await client.get(f"/api/makerhub/projects/{pid}")
        assert [s["text"] for s in again["steps"]] == ["Print", "Wire", "Calibrate", "Paint"]
        assert again["steps"][0]["done"] is True
        assert again["expenses"] == [expense]
        assert again["space_use"] == "3D printer"
        state = await client.state(select)
        assert state is not None
        assert state["state"] == "Robot arm"  # the active project is stored too
        todo_state = await client.state(todo)
        assert todo_state is not None
        assert todo_state["state"] == "3"
    finally:
        await client.close()
