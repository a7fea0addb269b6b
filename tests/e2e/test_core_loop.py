"""The core loop end to end: a real hass, a real Mosquitto, makerhub-sim units.

Adopt announced units through the discovery flow, read their entities over the REST API,
set an input through a service call and see the unit act on it, restart Home Assistant,
kill the units to see their entities go unavailable, and restart once more without them
to see their devices keep their firmware version.
"""

from __future__ import annotations

from typing import Any

import pytest

from dev.processes.hass_process import HassClient, HassProcess

pytestmark = pytest.mark.e2e

UNAVAILABLE = "unavailable"


def live(state: dict[str, Any] | None) -> bool:
    """Return whether an entity exists and has a real value."""
    return state is not None and state["state"] not in (UNAVAILABLE, "unknown")


async def wait_state(client: HassClient, entity_id: str, check: Any, what: str) -> Any:
    """Wait (up to 30 s) for an entity's state to satisfy ``check``."""
    return await client.wait_for(lambda: client.state(entity_id), check, 30, what)


async def test_units_adopted_used_and_lost(
    hass_api: HassClient, hass_process: HassProcess, start_fleet: Any
) -> None:
    """The whole loop, against real processes only."""
    client = hass_api
    fleet = start_fleet(
        "--units", "2", "--kinds", "thermometer,relay", "--rate", "4",
        "--state-interval", "1", "--id-prefix", "e2e",
    )  # fmt: skip

    # Both units announce themselves and wait under "Discovered".
    flows = await client.wait_for(
        client.discovered_units, lambda flows: len(flows) == 2, 30, "two discovered units"
    )
    names = {flow["context"]["title_placeholders"]["name"]: flow["flow_id"] for flow in flows}
    assert set(names) == {"Sim thermometer 1", "Sim relay 2"}
    for name, flow_id in names.items():
        result = await client.adopt(flow_id, name.replace("Sim", "E2E"))
        assert result["type"] == "abort"
        assert result["reason"] == "unit_adopted"
    assert await client.discovered_units() == []

    # Live values arrive on entities carrying the schema's metadata.
    temperature = await wait_state(
        client, "sensor.e2e_thermometer_1_temperature", live, "a temperature"
    )
    assert -40 <= float(temperature["state"]) <= 85
    assert temperature["attributes"]["unit_of_measurement"] == "°C"
    assert temperature["attributes"]["device_class"] == "temperature"
    devices = await client.wait_for(
        lambda: client.ws({"type": "config/device_registry/list"}),
        lambda devices: any(d["name"] == "E2E thermometer 1" and d["sw_version"] for d in devices),
        30,
        "the unit's device to show its firmware version",
    )
    device = next(d for d in devices if d["name"] == "E2E thermometer 1")
    assert device["sw_version"].startswith("makerhub-sim")
    assert device["model"] == "makerhub-sim thermometer"
    connectivity = await client.state("binary_sensor.e2e_relay_2_connectivity")
    assert connectivity is not None
    assert connectivity["state"] == "on"

    # An input set through a service call reaches the unit, which reports it back.
    for wanted, service in (("on", "turn_on"), ("off", "turn_off")):
        await client.call_service("switch", service, {"entity_id": "switch.e2e_relay_2_relay"})
        await wait_state(
            client,
            "binary_sensor.e2e_relay_2_state",
            lambda state, wanted=wanted: state is not None and state["state"] == wanted,
            f"the relay to report {wanted}",
        )

    # Home Assistant restarts: the units, their names and their values come back.
    await client.close()
    assert hass_process.stop() == 0
    hass_process.start()
    client = HassClient(hass_process)
    try:
        await client.login()
        await client.wait_running()
        await wait_state(
            client, "sensor.e2e_thermometer_1_temperature", live, "a temperature after restart"
        )
        relay = await wait_state(
            client, "switch.e2e_relay_2_relay", live, "the relay's desired state"
        )
        assert relay["state"] == "off"

        # The units die without a word: their Last Will makes them unavailable.
        fleet.kill()
        for entity_id in (
            "sensor.e2e_thermometer_1_temperature",
            "switch.e2e_relay_2_relay",
        ):
            await wait_state(
                client,
                entity_id,
                lambda state: state is not None and state["state"] == UNAVAILABLE,
                f"{entity_id} to become unavailable",
            )
        connectivity = await client.state("binary_sensor.e2e_relay_2_connectivity")
        assert connectivity is not None
        assert connectivity["state"] == "off"
    finally:
        await client.close()

    assert hass_process.stop() == 0
    assert hass_process.makerhub_problems() == []
    assert len(hass_process.log_lines("is unavailable")) == 2

    # Restarted while the units are away, the devices keep the firmware version they had.
    client = await HassClient.start(hass_process)
    try:
        devices = await client.ws({"type": "config/device_registry/list"})
        device = next(d for d in devices if d["name"] == "E2E thermometer 1")
        assert device["sw_version"].startswith("makerhub-sim")
    finally:
        await client.close()
    assert hass_process.stop() == 0
    assert hass_process.makerhub_problems() == []
