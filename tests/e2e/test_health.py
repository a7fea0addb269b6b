"""Fleet health end to end: a real hass, a real Mosquitto, a makerhub-sim unit.

A unit that stays connected but stops reporting (its process is paused) gets its problem
sensor turned on within its grace plus a second of its missed heartbeat, and one problem
event; it recovers with one event when it reports again. Then the broker is killed: one
problem event, for the broker, the unit down because of it, no event for the unit, and a
recovery event once the broker is back.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
import signal
import time
from typing import Any

import pytest

from dev.processes.hass_process import HassApiError, HassClient
from dev.processes.mosquitto import MosquittoBroker
from tests.helpers.hass_socket import HassSocket

pytestmark = pytest.mark.e2e

PROBLEM = "binary_sensor.e2e_thermometer_1_health_problem"
BROKER = "binary_sensor.makerhub_broker_problem"
PERIOD = 1.0
GRACE = 2.0


def attribute(name: str, value: Any) -> Any:
    """Return a check that an entity's attribute has ``value``."""
    return lambda state: state is not None and state["attributes"].get(name) == value


async def test_health_detects_a_silent_unit_and_the_broker_as_root_cause(
    hass_api: HassClient, mosquitto: MosquittoBroker, start_fleet: Any
) -> None:
    client = hass_api
    fleet = start_fleet(
        "--units", "1", "--kinds", "thermometer", "--rate", "1",
        "--state-interval", str(PERIOD), "--id-prefix", "e2e",
    )  # fmt: skip
    flows = await client.wait_for(
        client.discovered_units, lambda flows: len(flows) == 1, 30, "the discovered unit"
    )
    await client.adopt(flows[0]["flow_id"], "E2E thermometer 1")
    state = await client.wait_for(
        lambda: client.state(PROBLEM), attribute("status", "healthy"), 60, "a healthy unit"
    )
    item = state["attributes"]["item"]
    assert item.startswith("unit:")
    entry = (await client.entries("makerhub"))[0]
    result = await client.options_flow(
        entry["entry_id"],
        {"next_step_id": "health"},
        {"item": item, "period": PERIOD, "grace": GRACE},
    )
    assert result["type"] == "create_entry"
    await client.wait_for(
        lambda: client.state(PROBLEM),
        lambda s: attribute("status", "healthy")(s) and s["attributes"]["grace"] == GRACE,
        60,
        "the unit's new timing",
    )

    async with HassSocket(client) as socket:
        problems = await socket.subscribe_events("makerhub_health_problem")
        recovered = await socket.subscribe_events("makerhub_health_recovered")

        # The unit stays connected but says nothing: one problem, within grace + 1 s.
        fleet.process.send_signal(signal.SIGSTOP)
        paused = time.monotonic()
        try:
            state = await client.wait_for(
                lambda: client.state(PROBLEM), attribute("status", "problem"), 60, "a problem"
            )
            noticed = time.monotonic() - paused
            await client.wait_for(lambda: asyncio.sleep(0, problems), bool, 10, "the event")
            event = problems[0]["data"]
            assert event["item"] == item
            assert event["root_cause"] == item
            assert event["test"] is False
            last_seen = datetime.fromisoformat(state["attributes"]["last_seen"])
            at = datetime.fromisoformat(event["at"])
            assert (at - last_seen).total_seconds() <= PERIOD + GRACE + 1
            assert noticed <= PERIOD + GRACE + 30  # the wall clock, on a loaded machine
            await client.wait_for(
                lambda: client.state(PROBLEM),
                lambda s: s is not None and s["attributes"]["restarts"] >= 1,
                30,
                "a restart sent to the silent unit",
            )
        finally:
            fleet.process.send_signal(signal.SIGCONT)
        await client.wait_for(
            lambda: client.state(PROBLEM), attribute("status", "healthy"), 60, "its recovery"
        )
        await client.wait_for(lambda: asyncio.sleep(0, recovered), bool, 10, "the recovery")
        assert [e["data"]["item"] for e in problems] == [item]
        assert [e["data"]["item"] for e in recovered] == [item]
        problems.clear()
        recovered.clear()

        # The broker dies: one root-cause problem, the unit down because of it.
        mosquitto.kill()
        await client.wait_for(
            lambda: client.state(BROKER), lambda s: s is not None and s["state"] == "on", 60,
            "the broker's problem",
        )  # fmt: skip
        state = await client.wait_for(
            lambda: client.state(PROBLEM), attribute("status", "down_because"), 30, "the unit"
        )
        assert state["state"] == "on"
        assert state["attributes"]["root_cause"] == "broker"
        # Past the unit's own deadline while the broker is down: still no event for it.
        await asyncio.sleep(PERIOD + GRACE + 2)
        assert [e["data"]["item"] for e in problems] == ["broker"]
        assert problems[0]["data"]["root_cause"] == "broker"

        mosquitto.start()
        await client.wait_for(
            lambda: client.state(BROKER), lambda s: s is not None and s["state"] == "off", 90,
            "the broker back",
        )  # fmt: skip
        await client.wait_for(
            lambda: client.state(PROBLEM), attribute("status", "healthy"), 90, "the unit back"
        )
        await client.wait_for(lambda: asyncio.sleep(0, recovered), bool, 10, "the recovery")
        assert [e["data"]["item"] for e in recovered] == ["broker"]
        assert [e["data"]["item"] for e in problems] == ["broker"]
        summary = await client.state("sensor.makerhub_healthy_items")
        assert summary is not None
        assert summary["attributes"]["summary"] == "3 of 3 healthy"  # with Home Assistant

        # makerhub.restart_item: the unit is sent its restart command; the broker (Home
        # Assistant's own connection) is nothing Makerhub can restart.
        await socket.call_service("makerhub", "restart_item", {"item": PROBLEM})
        with pytest.raises(HassApiError, match="item_not_restartable"):
            await socket.call_service("makerhub", "restart_item", {"item": BROKER})
