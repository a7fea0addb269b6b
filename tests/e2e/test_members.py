"""Members end to end: a real hass process refuses the developer's first project until
they sign the space's agreement, keeps the signature through a SIGKILL right after the
action answered, and answers ``makerhub/me`` with the project's entities; the space's
active hours are counted, saved each minute and kept through a SIGKILL."""

from __future__ import annotations

import asyncio
import json

import pytest

from dev.processes.hass_process import HassApiError, HassClient, HassProcess
from dev.processes.mosquitto import MosquittoBroker

pytestmark = pytest.mark.e2e

SENSOR = "binary_sensor.makerhub_developer_agreement_signed"
WEEK_HOURS = "sensor.makerhub_hours_active_this_week"
UUID = "e2c56db5-dffb-48d2-b060-d0f5a71096e0"


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


async def test_active_hours_count_and_survive_a_kill(
    hass_api: HassClient, hass_process: HassProcess, mosquitto: MosquittoBroker
) -> None:
    """The developer at a station makes the space active; a minute later the hours count
    is on disk; after a SIGKILL and a restart the week's hours are still there."""
    client = hass_api
    entry_id = (await client.entries("makerhub"))[0]["entry_id"]
    result = await client.subentry_flow(
        entry_id,
        "station",
        {"name": "Bench A", "uuid": UUID, "major": 1, "minor": 1, "measured_power": -59},
    )
    assert result["type"] == "create_entry"
    await client.wait_for(
        lambda: client.state(WEEK_HOURS),
        lambda state: state is not None and state["state"] == "0.0",
        60,
        "the week's active hours at 0",
    )
    await client.post(
        "/api/makerhub/presence",
        {"beacon": {"uuid": UUID, "major": 1, "minor": 1}, "distance": 0.5},
    )
    await client.wait_for(
        lambda: client.state("binary_sensor.makerhub_space_active"),
        lambda state: state is not None and state["state"] == "on",
        30,
        "the space active",
    )
    # The count is saved at each minute's checkpoint.
    stored = hass_process.config_dir / ".storage" / "makerhub.active_hours"

    def seconds_on_disk() -> float:
        if not stored.exists():
            return 0.0
        return sum(json.loads(stored.read_text())["data"]["weeks"].values())

    await client.wait_for(
        lambda: asyncio.to_thread(seconds_on_disk),
        lambda seconds: seconds >= 55,
        150,
        "a minute saved",
    )
    hass_process.kill()
    await client.close()

    client = await HassClient.start(hass_process)
    try:
        state = await client.wait_for(
            lambda: client.state(WEEK_HOURS),
            lambda state: state is not None and state["state"] not in ("unknown", "unavailable"),
            60,
            "the week's active hours after the restart",
        )
        assert float(state["state"]) >= 0.01  # the saved minute, at least
        month = await client.state("sensor.makerhub_hours_active_this_month")
        assert month is not None
        assert float(month["state"]) >= 0.01
    finally:
        await client.close()
    assert hass_process.stop() == 0
