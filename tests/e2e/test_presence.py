"""Presence end to end: a real hass, a real Mosquitto, a custom app reporting over HTTP.

A station is added through its subentry flow, the dev user is linked to a person, and a
custom app holding that user's long-lived token reports the nearest beacon: the person's
station sensor follows, the broker keeps the retained station and space messages for
listening devices, and bad or unauthenticated reports are refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from dev.processes.hass_process import HassClient, HassProcess
from dev.processes.mosquitto import MosquittoBroker

pytestmark = pytest.mark.e2e

UUID = "e2c56db5-dffb-48d2-b060-d0f5a71096e0"


@pytest.fixture
def hass_process(tmp_path: Path) -> Iterator[HassProcess]:
    """Home Assistant with the person integration (people are what presence places)."""
    process = HassProcess(tmp_path / "config", extra_config="person:\n")
    try:
        yield process
    finally:
        process.stop()


async def report(client: HassClient, token: str | None, body: Any) -> tuple[int, Any]:
    """POST a presence report as a custom app would."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with client.session.post(
        f"{client.url}/api/makerhub/presence", json=body, headers=headers
    ) as response:
        try:
            answer = await response.json()
        except aiohttp.ContentTypeError:
            answer = await response.text()
        return response.status, answer


async def test_custom_app_places_a_person(hass_api: HassClient, mosquitto: MosquittoBroker) -> None:
    """Report, arrive, see it on the broker; refuse bad reports; exit."""
    client = hass_api
    users = await client.ws({"type": "config/auth/list"})
    dev = next(user for user in users if user["username"] == "dev")
    people = (await client.ws({"type": "person/list"}))["storage"]
    if not any(person.get("user_id") == dev["id"] for person in people):  # onboarding made one
        await client.ws({"type": "person/create", "name": "Dev", "user_id": dev["id"]})
    entry_id = (await client.entries("makerhub"))[0]["entry_id"]
    flow = await client.post(
        "/api/config/config_entries/subentries/flow",
        {"handler": [entry_id, "station"], "show_advanced_options": False},
    )
    result = await client.post(
        f"/api/config/config_entries/subentries/flow/{flow['flow_id']}",
        {"name": "Bench A", "uuid": UUID, "major": 1, "minor": 1, "measured_power": -59},
    )
    assert result["type"] == "create_entry"
    await client.wait_for(
        lambda: client.state("binary_sensor.bench_a_occupancy"),
        lambda state: state is not None and state["state"] == "off",
        30,
        "the station's entities",
    )
    app_token = await client.long_lived_token("bench app")

    status, _ = await report(client, None, {"exit": True})
    assert status == 401
    status, answer = await report(client, app_token, {"beacon": {"uuid": UUID}, "distance": 1})
    assert status == 400
    assert "major" in answer["message"]

    beacon = {"uuid": UUID, "major": 1, "minor": 1}
    status, answer = await report(
        client, app_token, {"beacon": beacon, "distance": 0.7, "project": "robot arm"}
    )
    assert status == 200
    assert answer["person"] == "person.developer"
    station = await client.wait_for(
        lambda: client.state("sensor.makerhub_developer_station"),
        lambda state: state is not None and state["state"] == "Bench A",
        30,
        "the person to arrive at Bench A",
    )
    assert station["attributes"]["project"] == "robot arm"
    assert (await client.state("binary_sensor.makerhub_space_active"))["state"] == "on"
    held = await client.wait_for(
        lambda: _retained_async(mosquitto),
        lambda held: held.get("makerhub/space/people/developer/station") == "Bench A",
        30,
        "the retained station message",
    )
    assert held["makerhub/space/active"] == "true"

    status, answer = await report(client, app_token, {"exit": True})
    assert status == 200
    assert answer["station"] == "away"
    await client.wait_for(
        lambda: _retained_async(mosquitto),
        lambda held: (
            held.get("makerhub/space/people/developer/station") == "away"
            and held.get("makerhub/space/active") == "false"
        ),
        30,
        "the retained messages to say away",
    )
    assert (await client.state("sensor.makerhub_developer_station"))["state"] == "away"


async def _retained_async(broker: MosquittoBroker) -> dict[str, str]:
    return await asyncio.to_thread(broker.retained, "makerhub/space/#")
