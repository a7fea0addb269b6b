"""Telemetry's own persistent session in Home Assistant, against a real Mosquitto.

Output values reach the database through it, not through Home Assistant's MQTT
integration; values sent while the hub is unloaded are queued by the broker and recorded
at the next start.
"""

from __future__ import annotations

from collections.abc import Iterator

from homeassistant.core import HomeAssistant
import paho.mqtt.client as mqtt
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_mqtt_message
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.makerhub.telemetry.ingest import ingest_settings
from custom_components.makerhub.telemetry.manager import HubTelemetry
from dev.processes.mosquitto import MosquittoBroker
from tests.components.makerhub.conftest import UID, bring_online
from tests.components.makerhub.core.telemetry_helpers import unit_client, wait_for
from tests.components.makerhub.telemetry.test_manager import (  # noqa: F401  (fixtures)
    database,
    database_url,
    hub_options,
    rows,
)

TOPIC = f"makerhub/{UID}/out/temperature"


@pytest.fixture
def no_own_telemetry_session() -> None:
    """Here telemetry gets its own session (the package's conftest turns it off)."""


@pytest.fixture
def broker(socket_enabled: None, mosquitto: MosquittoBroker) -> MosquittoBroker:
    """A broker of this test's own, persisting sessions."""
    return mosquitto


@pytest.fixture
def unit(broker: MosquittoBroker) -> Iterator[mqtt.Client]:
    """The unit's client on the real broker."""
    with unit_client(broker, "unit") as client:
        yield client


def send(client: mqtt.Client, *values: str) -> None:
    """Publish temperature values with QoS 1 and wait for the broker to take them."""
    for value in values:
        client.publish(TOPIC, value, qos=1).wait_for_publish(10)


def telemetry(entry: MockConfigEntry) -> HubTelemetry:
    """Return the loaded hub's telemetry."""
    hub_telemetry: HubTelemetry | None = entry.runtime_data.telemetry
    assert hub_telemetry is not None
    return hub_telemetry


async def temperatures(name: str) -> list[float]:
    """Return the stored temperatures in order."""
    found = await rows(
        name, "SELECT value FROM samples WHERE variable = 'temperature' ORDER BY time"
    )
    return [row["value"] for row in found]


async def test_outputs_come_through_the_own_session_and_queue_while_away(
    hass: HomeAssistant,
    socket_enabled: None,
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
    broker: MosquittoBroker,
    unit: mqtt.Client,
    database: str,  # noqa: F811
) -> None:
    """The own session records outputs; HA's path only feeds entities; nothing is lost
    while the hub is unloaded."""
    mqtt_entry = hass.config_entries.async_entries("mqtt")[0]
    hass.config_entries.async_update_entry(
        mqtt_entry, data={"broker": broker.host, "port": broker.port, "username": "ha"}
    )
    hub_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    ingest = telemetry(hub_entry).ingest
    assert ingest is not None
    assert ingest.settings.client_id == f"makerhub-telemetry-{hub_entry.entry_id}"
    await wait_for(ingest.connected.is_set, within=30)
    await bring_online(hass)

    async_fire_mqtt_message(hass, TOPIC, "99")  # HA's copy: the entity, not telemetry
    send(unit, "19.5", "hot", "20.0")  # "hot" is no number: not recorded
    unit.publish(f"makerhub/{UID}/out/nothing", "1", qos=1).wait_for_publish(10)
    unit.publish("makerhub/otherunit99/out/temperature", "1", qos=1).wait_for_publish(10)
    await wait_for(lambda: ingest.acked == 5, within=30)
    assert await temperatures(database) == [19.5, 20.0]

    assert await hass.config_entries.async_unload(hub_entry.entry_id)
    send(unit, "21.0", "22.0")  # the hub is away: the broker keeps them for its session
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    again = telemetry(hub_entry).ingest
    assert again is not None
    await wait_for(lambda: again.acked == 2, within=30)
    assert await temperatures(database) == [19.5, 20.0, 21.0, 22.0]
    assert await hass.config_entries.async_unload(hub_entry.entry_id)


async def test_settings_follow_home_assistants_mqtt_entry(
    hass: HomeAssistant, hub_entry: MockConfigEntry
) -> None:
    """No MQTT entry, or one with TLS or WebSockets: no own session."""
    assert ingest_settings(hass, hub_entry, "makerhub") is None
    mqtt_entry = MockConfigEntry(domain="mqtt", data={})
    mqtt_entry.add_to_hass(hass)
    assert ingest_settings(hass, hub_entry, "makerhub") is None
    hass.config_entries.async_update_entry(
        mqtt_entry, data={"broker": "broker.lan", "certificate": "auto"}
    )
    assert ingest_settings(hass, hub_entry, "makerhub") is None
    hass.config_entries.async_update_entry(
        mqtt_entry,
        data={"broker": "broker.lan", "transport": "tcp", "username": "ha", "password": "pw"},
    )
    settings = ingest_settings(hass, hub_entry, "site")
    assert settings is not None
    assert (settings.host, settings.port) == ("broker.lan", 1883)
    assert settings.topics == ("site/+/out/+",)
    assert (settings.username, settings.password) == ("ha", "pw")
    assert "pw" not in repr(settings)
