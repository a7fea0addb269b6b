"""``POST /api/makerhub/presence``: reports that move a person, refusals, authentication,
and the hub not running."""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, MqttMockHAClient

from custom_components.makerhub.const import EVENT_STATION_CHANGED
from tests.components.makerhub.presence.conftest import URL, beacon, post, settle


async def test_http_reports_move_a_person(
    hass: HomeAssistant,
    alice: str,
    hub: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    hass_client: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A custom app's reports place Alice, move her, and an exit sends her away."""
    events = async_capture_events(hass, EVENT_STATION_CHANGED)
    client = await hass_client()
    assert hass.states.get("sensor.makerhub_alice_station").state == "away"
    assert hass.states.get("binary_sensor.makerhub_space_active").state == "off"

    status, answer = await post(
        client, {"beacon": beacon(1), "distance": 0.8, "project": "robot arm"}
    )
    assert status == 200
    assert answer["person"] == alice
    await settle(hass, freezer, 2)  # arriving takes the dwell time
    state = hass.states.get("sensor.makerhub_alice_station")
    assert state.state == "Bench A"
    assert state.attributes["source"] == "http"
    assert state.attributes["distance"] == 0.8
    assert state.attributes["project"] == "robot arm"
    assert hass.states.get("binary_sensor.bench_a_occupancy").state == "on"
    assert hass.states.get("sensor.bench_a_people").state == "1"
    assert hass.states.get("sensor.bench_a_people").attributes["people"] == [alice]
    assert hass.states.get("sensor.laser_people").state == "0"
    assert hass.states.get("binary_sensor.makerhub_space_active").state == "on"
    assert hass.states.get("sensor.makerhub_people_present").state == "1"
    assert [(e.data["from"], e.data["to"], e.data["cause"]) for e in events] == [
        ("away", "Bench A", "arrived")
    ]
    mqtt_mock.async_publish.assert_any_call(
        "makerhub/space/people/alice/station", "Bench A", 1, True
    )
    mqtt_mock.async_publish.assert_any_call("makerhub/space/active", "true", 1, True)

    await post(client, {"beacon": beacon(2), "distance": 0.5})
    await settle(hass, freezer, 2)
    assert hass.states.get("sensor.makerhub_alice_station").state == "Laser"
    assert hass.states.get("binary_sensor.bench_a_occupancy").state == "off"

    status, answer = await post(client, {"exit": True})
    assert status == 200
    assert answer["station"] == "away"
    await hass.async_block_till_done()
    assert hass.states.get("sensor.makerhub_alice_station").state == "away"
    assert hass.states.get("binary_sensor.makerhub_space_active").state == "off"
    assert [e.data["to"] for e in events] == ["Bench A", "Laser", "away"]
    mqtt_mock.async_publish.assert_any_call("makerhub/space/active", "false", 1, True)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json", "not JSON"),
        ({"beacon": beacon(1)}, "distance"),
        ({"beacon": beacon(1), "distance": -1}, "distance"),
        ({"beacon": {"uuid": "nope", "major": 1, "minor": 1}, "distance": 1}, "UUID"),
        ({"beacon": beacon(9), "distance": 1}, "no station"),
        ({"exit": True, "extra": 1}, "unknown field"),
        ({"beacon": beacon(1), "distance": 1, "project": 5}, "project"),
    ],
)
async def test_http_refuses_bad_reports(
    hass: HomeAssistant,
    alice: str,
    hub: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    body: Any,
    message: str,
) -> None:
    """Malformed reports get 400 with the reason, and change nothing."""
    client = await hass_client()
    if isinstance(body, str):
        response = await client.post(URL, data=body)
        status, answer = response.status, await response.json()
    else:
        status, answer = await post(client, body)
    assert status == 400
    assert message.lower() in answer["message"].lower()
    assert hass.states.get("sensor.makerhub_alice_station").state == "away"


async def test_http_needs_auth_and_a_person(
    hass: HomeAssistant,
    hub: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """401 without a token; 403 for a user who is no person; 400 for an oversized body."""
    anonymous = await hass_client_no_auth()
    assert (await anonymous.post(URL, json={"exit": True})).status == 401
    client = await hass_client()
    status, answer = await post(client, {"exit": True})
    assert status == 403
    assert "no person" in answer["message"]


async def test_http_with_the_hub_not_running(
    hass: HomeAssistant, alice: str, hub: MockConfigEntry, hass_client: ClientSessionGenerator
) -> None:
    """503 while the hub is unloaded; oversized bodies are refused."""
    client = await hass_client()
    response = await client.post(URL, data=b"x" * 5000)
    assert response.status == 400
    assert await hass.config_entries.async_unload(hub.entry_id)
    assert (await client.post(URL, json={"exit": True})).status == 503
