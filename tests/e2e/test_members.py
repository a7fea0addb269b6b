"""Members end to end: a real hass process refuses the developer's first project until
they sign the space's agreement, keeps the signature through a SIGKILL right after the
action answered, and answers ``makerhub/me`` with the project's entities."""

from __future__ import annotations

import asyncio

import pytest

from dev.processes.hass_process import HassApiError, HassClient, HassProcess
from dev.processes.mosquitto import MosquittoBroker

pytestmark = pytest.mark.e2e

SENSOR = "binary_sensor.makerhub_developer_agreement_signed"


async def test_agreement_gates_projects_and_survives_a_kill(
    hass_api: HassClient, hass_process: HassProcess, mosquitto: MosquittoBroker
) -> None:
    """Refused, signed, killed at once, still signed; then the project and the Me data."""
    client = hass_api
    with pytest.raises(HassApiError, match=r"403.*has not signed the space's agreement"):
        await client.post("/api/makerhub/projects", {"name": "Robot arm"})
    status = await client.ws({"type": "makerhub/agreement"})
    assert status["person"] == "person.developer"
    assert status["needs_signing"] is True
    assert "open source" in status["text"]
    await client.wait_for(
        lambda: client.state(SENSOR),
        lambda state: state is not None and state["state"] == "off",
        30,
        "the developer's agreement sensor, off",
    )

    # Home Assistant saves its config entries and people a moment after they change: wait
    # until the hub's entry and the developer's person are on disk, so that the kill below
    # tests the agreement's storage alone.
    storage = hass_process.config_dir / ".storage"

    def saved() -> bool:
        return all(
            (storage / name).exists() and text in (storage / name).read_text()
            for name, text in (("core.config_entries", '"makerhub"'), ("person", "developer"))
        )

    await client.wait_for(lambda: asyncio.to_thread(saved), bool, 60, "entry and person saved")
    signed = await client.service_response("makerhub", "sign_agreement", {})
    assert signed["signed"] is True
    hass_process.kill()  # SIGKILL as soon as the action answered: nothing saved on the way
    await client.close()

    client = await HassClient.start(hass_process)
    try:
        await client.wait_running()
        again = await client.ws({"type": "makerhub/agreement"})
        assert again["signed"] is True
        assert again["signed_at"] == signed["signed_at"]
        await client.wait_for(
            lambda: client.state(SENSOR),
            lambda state: state is not None and state["state"] == "on",
            60,
            "the developer's agreement sensor, on after the restart",
        )
        project = await client.post("/api/makerhub/projects", {"name": "Robot arm"})
        await client.wait_for(
            lambda: client.state("todo.robot_arm_steps"),
            lambda state: state is not None,
            30,
            "the project's to-do list",
        )
        me = await client.ws({"type": "makerhub/me"})
        assert me["person"] == "person.developer"
        assert [p["id"] for p in me["projects"]] == [project["id"]]
        assert me["projects"][0]["entities"]["todo"] == "todo.robot_arm_steps"
        assert me["projects"][0]["entities"]["month_cost"] == "sensor.robot_arm_cost_this_month"
        assert me["entities"]["agreement"] == SENSOR
    finally:
        await client.close()
    assert hass_process.stop() == 0
    assert hass_process.makerhub_problems() == []
