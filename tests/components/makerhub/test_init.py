"""Hub lifecycle: set-up, unload, unit deletion, schema changes, prefix moves."""

from __future__ import annotations

from datetime import timedelta
import json
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState, ConfigSubentryData
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.makerhub.const import CONF_PREFIX, DOMAIN

from .conftest import ANNOUNCE_ID, BENCH_SCHEMA, UID, announcement, bring_online, unit_subentry


def published(mqtt_mock: MqttMockHAClient) -> dict[str, tuple[Any, ...]]:
    """Return the last publish per topic: (payload, qos, retain)."""
    return {call.args[0]: call.args[1:] for call in mqtt_mock.async_publish.call_args_list}


async def test_setup_publishes_schemas_and_unloads(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, hub_entry: MockConfigEntry
) -> None:
    """Start-up republishes every unit's schema.json; unload undoes the subscriptions."""
    hub_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    # First the retained schemas are heard; only the space's presence state goes out now.
    assert published(mqtt_mock) == {"makerhub/space/active": ("false", 1, True)}
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))
    await hass.async_block_till_done()
    schema_json = json.loads(published(mqtt_mock)[f"makerhub/{UID}/sys/schema"][0])
    assert schema_json == {
        "v": 1,
        "unit": UID,
        "inputs": {
            name: [f"makerhub/{UID}/in/{name}"]
            for name in ("label", "level", "preset", "relay", "target")
        },
        "outputs": {
            name: [f"makerhub/{UID}/out/{name}"]
            for name in ("count", "door", "mode", "note", "temperature")
        },
        "sys": {
            name: f"makerhub/{UID}/sys/{name}"
            for name in ("status", "state", "log", "cmd", "event", "schema")
        },
    }
    subscribed = {call.args[0] for call in mqtt_mock.async_subscribe.call_args_list}
    assert {
        "makerhub/+/out/+",
        "makerhub/+/in/+",
        "makerhub/+/sys/+",
        "makerhub/announce/+",
    } <= subscribed
    assert await hass.config_entries.async_unload(hub_entry.entry_id)
    assert hub_entry.state is ConfigEntryState.NOT_LOADED
    async_fire_mqtt_message(hass, f"makerhub/{UID}/out/temperature", "20")
    await hass.async_block_till_done()
    assert hass.states.get("sensor.bench_temperature").state == STATE_UNAVAILABLE


@pytest.mark.parametrize(
    "hub_subentries",
    [[unit_subentry(), unit_subentry(uid="bbbbbbbbbbbb", title="Other", announce_id="o")]],
)
async def test_start_republishes_only_stale_schemas(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, hub: MockConfigEntry
) -> None:
    """Only a unit whose retained schema.json is missing or outdated gets it again."""
    current = hub.runtime_data.hub.publisher.schema_payload(hub.runtime_data.hub.units[UID])
    async_fire_mqtt_message(hass, f"makerhub/{UID}/sys/schema", current, retain=True)
    async_fire_mqtt_message(hass, "makerhub/bbbbbbbbbbbb/sys/schema", "{}", retain=True)
    await hass.async_block_till_done()
    mqtt_mock.async_publish.reset_mock()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))
    await hass.async_block_till_done()
    assert set(published(mqtt_mock)) == {"makerhub/bbbbbbbbbbbb/sys/schema"}


async def test_setup_retries_without_mqtt(hass: HomeAssistant, hub_entry: MockConfigEntry) -> None:
    """Without MQTT the hub is not ready and retries later."""
    hub_entry.add_to_hass(hass)
    with patch("custom_components.makerhub.mqtt.async_wait_for_mqtt_client", return_value=False):
        await hass.config_entries.async_setup(hub_entry.entry_id)
    assert hub_entry.state is ConfigEntryState.SETUP_RETRY


async def test_delete_unit_clears_everything(
    hass: HomeAssistant, hub: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    """Deleting a unit removes device and entities and clears its retained topics."""
    (subentry,) = hub.subentries.values()
    mqtt_mock.async_publish.reset_mock()
    assert hass.config_entries.async_remove_subentry(hub, subentry.subentry_id)
    await hass.async_block_till_done()
    assert dr.async_get(hass).async_get_device(identifiers={(DOMAIN, UID)}) is None
    assert (
        er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{UID}-out-temperature") is None
    )
    assert hass.states.get("sensor.bench_temperature") is None
    cleared = published(mqtt_mock)
    expected = {
        f"makerhub/{UID}/sys/status",
        f"makerhub/{UID}/sys/schema",
        *(f"makerhub/{UID}/in/{name}" for name in BENCH_SCHEMA["inputs"]),
        f"makerhub/announce/{ANNOUNCE_ID}",
        f"makerhub/announce/{ANNOUNCE_ID}/adopted",
    }
    assert set(cleared) == expected
    assert all(value == ("", 1, True) for value in cleared.values())
    assert UID not in hub.runtime_data.hub.units


async def test_delete_unit_does_not_count_its_own_clearing(
    hass: HomeAssistant,
    hub: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The broker echoes the hub's own clearing of a deleted unit's retained topics: not
    bad input. A real message for the deleted unit afterwards still is."""
    await bring_online(hass)
    (subentry,) = hub.subentries.values()
    bad_input = hub.runtime_data.hub.bad_input
    assert bad_input.total == 0
    caplog.clear()
    assert hass.config_entries.async_remove_subentry(hub, subentry.subentry_id)
    await hass.async_block_till_done()
    assert {topic for topic, value in published(mqtt_mock).items() if value == ("", 1, True)} >= {
        f"makerhub/{UID}/sys/status",
        f"makerhub/{UID}/sys/schema",
    }
    assert bad_input.total == 0
    assert "Dropped a message" not in caplog.text

    async_fire_mqtt_message(hass, f"makerhub/{UID}/sys/status", "online")
    async_fire_mqtt_message(hass, "makerhub/cccccccccccc/sys/status", "")
    await hass.async_block_till_done()
    assert dict(bad_input.by_reason) == {"unknown_unit": 2}
    assert f"Dropped a message (unknown_unit) on makerhub/{UID}/sys/status" in caplog.text
    # An empty message on a cleared topic is an echo only once.
    async_fire_mqtt_message(hass, f"makerhub/{UID}/sys/schema", "")
    async_fire_mqtt_message(hass, f"makerhub/{UID}/sys/schema", "")
    await hass.async_block_till_done()
    assert dict(bad_input.by_reason) == {"unknown_unit": 4}


@pytest.mark.parametrize("hub_subentries", [[]])
async def test_stale_device_removed_at_start(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, hub_entry: MockConfigEntry
) -> None:
    """A device whose unit is gone is removed when the hub starts."""
    hub_entry.add_to_hass(hass)
    stale = dr.async_get(hass).async_get_or_create(
        config_entry_id=hub_entry.entry_id, identifiers={(DOMAIN, "ffffffffffff")}
    )
    await hass.config_entries.async_setup(hub_entry.entry_id)
    await hass.async_block_till_done()
    assert dr.async_get(hass).async_get(stale.id) is None


@pytest.mark.parametrize(
    "hub_subentries",
    [[unit_subentry(), unit_subentry(uid="bbbbbbbbbbbb", title="Broken", schema={"x": 1})]],
)
async def test_corrupt_stored_unit_skipped(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture, hub: MockConfigEntry
) -> None:
    """A unit whose stored schema is corrupt is skipped with an error; others run."""
    assert hub.state is ConfigEntryState.LOADED
    setup_log = " ".join(record.getMessage() for record in caplog.get_records("setup"))
    assert "Broken (bbbbbbbbbbbb) has a corrupt stored schema" in setup_log
    assert set(hub.runtime_data.hub.units) == {UID}
    assert hass.states.get("sensor.bench_temperature") is not None
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "corrupt_unit_bbbbbbbbbbbb")
    assert issue is not None
    assert issue.translation_placeholders["name"] == "Broken"
    # Removing the hub removes its repair issues.
    await hass.config_entries.async_remove(hub.entry_id)
    assert ir.async_get(hass).async_get_issue(DOMAIN, "corrupt_unit_bbbbbbbbbbbb") is None


# -- announce handshake and schema changes -------------------------------------------


async def test_handover_until_unit_confirms(
    hass: HomeAssistant, hub: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    """An announcement without its uid gets schema.json again; with it, the hand-over ends."""
    mqtt_mock.async_publish.reset_mock()
    async_fire_mqtt_message(hass, f"makerhub/announce/{ANNOUNCE_ID}", announcement(), retain=True)
    await hass.async_block_till_done()
    handover = published(mqtt_mock)[f"makerhub/announce/{ANNOUNCE_ID}/adopted"]
    assert json.loads(handover[0])["unit"] == UID
    assert handover[1:] == (1, True)

    mqtt_mock.async_publish.reset_mock()
    async_fire_mqtt_message(hass, f"makerhub/announce/{ANNOUNCE_ID}", announcement(unit=UID))
    await hass.async_block_till_done()
    assert published(mqtt_mock) == {f"makerhub/announce/{ANNOUNCE_ID}/adopted": ("", 1, True)}
    # Later announcements of the same boot change nothing.
    mqtt_mock.async_publish.reset_mock()
    async_fire_mqtt_message(hass, f"makerhub/announce/{ANNOUNCE_ID}", announcement(unit=UID))
    await hass.async_block_till_done()
    assert published(mqtt_mock) == {}


async def test_schema_change_reconciles_entities(
    hass: HomeAssistant, hub: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    """A unit announcing a changed schema gets entities added, replaced and removed."""
    await bring_online(hass)
    async_fire_mqtt_message(hass, f"makerhub/{UID}/out/note", "kept")
    await hass.async_block_till_done()
    ent_reg = er.async_get(hass)
    temperature_id = ent_reg.async_get_entity_id("sensor", DOMAIN, f"{UID}-out-temperature")
    ent_reg.async_update_entity(temperature_id, new_entity_id="sensor.bench_air")

    schema = json.loads(json.dumps(BENCH_SCHEMA))
    del schema["outputs"]["door"]  # removed
    schema["outputs"]["humidity"] = {"type": "float", "unit": "%"}  # added
    del schema["outputs"]["temperature"]["state_class"]  # changed metadata, same platform
    schema["outputs"]["count"] = {"type": "bool"}  # changed platform: sensor → binary_sensor
    mqtt_mock.async_publish.reset_mock()
    async_fire_mqtt_message(
        hass, f"makerhub/announce/{ANNOUNCE_ID}", announcement(schema=schema, unit=UID)
    )
    await hass.async_block_till_done()

    assert hass.states.get("binary_sensor.bench_door") is None
    assert ent_reg.async_get_entity_id("binary_sensor", DOMAIN, f"{UID}-out-door") is None
    assert hass.states.get("sensor.bench_humidity") is not None
    assert hass.states.get("sensor.bench_count") is None
    assert hass.states.get("binary_sensor.bench_count") is not None
    # The replaced entity keeps its entity id (and the user's rename), new metadata.
    air = hass.states.get("sensor.bench_air")
    assert "state_class" not in air.attributes
    assert air.attributes["device_class"] == "temperature"
    # Untouched entities keep their value.
    assert hass.states.get("sensor.bench_note").state == "kept"
    stored = hub.subentries[next(iter(hub.subentries))].data["schema"]
    assert "humidity" in stored["outputs"]
    schema_json = json.loads(published(mqtt_mock)[f"makerhub/{UID}/sys/schema"][0])
    assert "humidity" in schema_json["outputs"]
    assert "door" not in schema_json["outputs"]
    # Values of the new variable flow at once.
    async_fire_mqtt_message(hass, f"makerhub/{UID}/out/humidity", "40")
    await hass.async_block_till_done()
    assert hass.states.get("sensor.bench_humidity").state == "40.0"


async def test_invalid_new_schema_keeps_old(
    hass: HomeAssistant, hub: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """A changed schema Home Assistant cannot show is refused; the unit keeps working."""
    schema = json.loads(json.dumps(BENCH_SCHEMA))
    schema["outputs"]["temperature"]["device_class"] = "warmth"
    async_fire_mqtt_message(
        hass, f"makerhub/announce/{ANNOUNCE_ID}", announcement(schema=schema, unit=UID)
    )
    await hass.async_block_till_done()
    assert "'warmth' is not a sensor device class" in caplog.text
    assert hub.runtime_data.hub.bad_input.by_reason["malformed"] == 1
    assert hub.subentries[next(iter(hub.subentries))].data["schema"] == BENCH_SCHEMA
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"schema_refused_{UID}")
    assert "'warmth' is not a sensor device class" in issue.translation_placeholders["error"]
    # The unit comes back with its valid schema: the repair issue goes.
    async_fire_mqtt_message(hass, f"makerhub/announce/{ANNOUNCE_ID}", announcement(unit=UID))
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"schema_refused_{UID}") is None


@pytest.mark.parametrize(
    "hub_subentries",
    [
        [
            ConfigSubentryData(
                data={"uid": UID, "announce_id": None, "model": None, "schema": BENCH_SCHEMA},
                subentry_type="unit",
                title="Bench",
                unique_id=UID,
            )
        ]
    ],
)
async def test_unit_without_announce_id(
    hass: HomeAssistant, hub: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    """A unit created from a repository (no announce id) is deleted without announce topics."""
    (subentry,) = hub.subentries.values()
    mqtt_mock.async_publish.reset_mock()
    hass.config_entries.async_remove_subentry(hub, subentry.subentry_id)
    await hass.async_block_till_done()
    assert not any("announce" in topic for topic in published(mqtt_mock))


async def test_prefix_change_moves_units(
    hass: HomeAssistant, hub: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    """A new prefix: units get their new schema.json on the topic they follow, and
    desired input values move with them."""
    await bring_online(hass)
    async_fire_mqtt_message(hass, f"makerhub/{UID}/in/target", "21.5")
    await hass.async_block_till_done()
    mqtt_mock.async_publish.reset_mock()
    hass.config_entries.async_update_entry(hub, options={**hub.options, CONF_PREFIX: "space"})
    await hass.async_block_till_done()
    moved = published(mqtt_mock)
    new_schema = json.loads(moved[f"makerhub/{UID}/sys/schema"][0])
    assert new_schema["sys"]["schema"] == f"space/{UID}/sys/schema"
    assert json.loads(moved[f"space/{UID}/sys/schema"][0]) == new_schema
    assert moved[f"space/{UID}/in/target"] == ("21.5", 1, True)
    assert moved[f"makerhub/{UID}/in/target"] == ("", 1, True)
    assert moved[f"makerhub/{UID}/sys/status"] == ("", 1, True)
    assert moved[f"makerhub/announce/{ANNOUNCE_ID}"] == ("", 1, True)
    assert hub.runtime_data.hub.prefix == "space"
    subscribed = {call.args[0] for call in mqtt_mock.async_subscribe.call_args_list}
    assert "space/+/out/+" in subscribed
