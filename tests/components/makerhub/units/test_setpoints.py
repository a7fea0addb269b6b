"""The hub owns every input's set-point: stored, shown, and kept retained on the broker.

For every platform that shows an input (number, switch, select, text): stored values are
shown after a start, written to storage promptly, published again when the broker lacks
them (start-up, MQTT reconnect, a unit coming online), and fitted to a changed schema.
"""

from __future__ import annotations

from datetime import timedelta
import json
import logging
from typing import Any
from unittest.mock import patch

from homeassistant.components.mqtt.const import MQTT_CONNECTION_STATE
from homeassistant.const import ATTR_ENTITY_ID, EVENT_HOMEASSISTANT_FINAL_WRITE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.makerhub.units.diagnostics import hub_diagnostics
from custom_components.makerhub.units.republish import REPUBLISH_BATCH
from custom_components.makerhub.units.retained import RETAINED_CHECK_DELAY
from custom_components.makerhub.units.setpoints import STORAGE_KEY, WRITE_INTERVAL
from tests.components.makerhub.conftest import (
    ANNOUNCE_ID,
    BENCH_SCHEMA,
    UID,
    announcement,
    state_payload,
    unit_entity_id,
    unit_subentry,
)

pytestmark = pytest.mark.usefixtures("mqtt_mock")

OTHER = "bbbbbbbbbbbb"
SETPOINTS: dict[str, Any] = {
    "target": 21.5,
    "relay": True,
    "preset": "comfort",
    "label": "Lathe",
    "level": 42,
}
"""One stored set-point per platform (and both number types)."""
SHOWN = {
    "target": "21.5",
    "relay": "on",
    "preset": "comfort",
    "label": "Lathe",
    "level": "42.0",
}
WIRE = {"target": "21.5", "relay": "true", "preset": "comfort", "label": "Lathe", "level": "42"}


def store(hass_storage: dict[str, Any], units: dict[str, Any]) -> None:
    """Put set-points in Home Assistant's (test) storage, as a previous run left them."""
    hass_storage[STORAGE_KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": STORAGE_KEY,
        "data": {"units": units},
    }


def stored(hass_storage: dict[str, Any]) -> dict[str, Any]:
    """Return the set-points as last written."""
    units: dict[str, Any] = hass_storage[STORAGE_KEY]["data"]["units"]
    return units


def inputs_published(mqtt_mock: MqttMockHAClient, uid: str = UID) -> dict[str, tuple[Any, ...]]:
    """Return every publish on a unit's input topics: name → (payload, qos, retain)."""
    prefix = f"makerhub/{uid}/in/"
    return {
        call.args[0].removeprefix(prefix): call.args[1:]
        for call in mqtt_mock.async_publish.call_args_list
        if call.args[0].startswith(prefix)
    }


async def start(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set the hub up."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


async def online(hass: HomeAssistant, uid: str = UID, *, retain: bool = True) -> None:
    """The unit's status (retained: as the broker replays it) and a state report."""
    async_fire_mqtt_message(hass, f"makerhub/{uid}/sys/status", "online", retain=retain)
    async_fire_mqtt_message(hass, f"makerhub/{uid}/sys/state", state_payload())
    await hass.async_block_till_done(wait_background_tasks=True)


async def writes_due_now(hass: HomeAssistant) -> None:
    """Run what is due without any time passing (a write the hub did not delay)."""
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def retained_check(hass: HomeAssistant) -> None:
    """Let the hub's check of the broker's retained copies run."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=RETAINED_CHECK_DELAY + 1))
    await hass.async_block_till_done(wait_background_tasks=True)


def states(hass: HomeAssistant) -> dict[str, str]:
    """Return the states of the unit's input entities, by input."""
    return {name: hass.states.get(unit_entity_id(hass, UID, ("in", name))).state for name in SHOWN}


async def test_stored_setpoints_shown_and_republished(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
) -> None:
    """After a restart against a broker that lost everything, every input entity shows its
    stored set-point, and the hub publishes them all again, retained."""
    store(hass_storage, {UID: SETPOINTS})
    await start(hass, hub_entry)
    await online(hass)
    assert states(hass) == SHOWN
    assert inputs_published(mqtt_mock) == {}  # the broker's copies may still be coming
    await retained_check(hass)
    assert inputs_published(mqtt_mock) == {name: (text, 1, True) for name, text in WIRE.items()}


async def test_broker_copies_checked(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
) -> None:
    """Copies the broker holds right are left alone; other or invalid ones are replaced by
    the stored set-point, which the entities keep showing."""
    store(hass_storage, {UID: SETPOINTS})
    await start(hass, hub_entry)
    for name, text in (("target", "21.5"), ("level", "42"), ("relay", "false"), ("preset", "x")):
        async_fire_mqtt_message(hass, f"makerhub/{UID}/in/{name}", text, retain=True)
    await online(hass)
    assert states(hass) == SHOWN
    diagnostics = hub_diagnostics(hub_entry.runtime_data.hub)  # what the broker holds, as seen
    assert diagnostics["retained_inputs"] == {UID: {"target": 21.5, "level": 42, "relay": False}}
    assert diagnostics["units"][UID]["inputs"] == SETPOINTS
    await retained_check(hass)
    assert inputs_published(mqtt_mock) == {
        "relay": ("true", 1, True),
        "preset": ("comfort", 1, True),
        "label": ("Lathe", 1, True),
    }


async def test_retained_value_adopted_without_setpoint(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
) -> None:
    """An input without a stored set-point takes the broker's copy (a hub that stored
    none yet, as after an upgrade) and stores it; nothing is republished."""
    await start(hass, hub_entry)
    async_fire_mqtt_message(hass, f"makerhub/{UID}/in/preset", "eco", retain=True)
    await online(hass)
    await writes_due_now(hass)
    assert hass.states.get(unit_entity_id(hass, UID, ("in", "preset"))).state == "eco"
    assert hass.states.get(unit_entity_id(hass, UID, ("in", "level"))).state == STATE_UNKNOWN
    assert stored(hass_storage) == {UID: {"preset": "eco"}}
    await retained_check(hass)
    assert inputs_published(mqtt_mock) == {}


@pytest.mark.parametrize(
    ("service", "data", "name", "value"),
    [
        ("number.set_value", {"value": 12}, "target", 12.0),
        ("number.set_value", {"value": 7}, "level", 7),
        ("switch.turn_off", {}, "relay", False),
        ("select.select_option", {"option": "eco"}, "preset",
         "eco"),
        ("text.set_value", {"value": "Drill"}, "label", "Drill"),
    ],
)  # fmt: skip
async def test_set_input_stored_at_once(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    hub_entry: MockConfigEntry,
    service: str,
    data: dict[str, Any],
    name: str,
    value: Any,
) -> None:
    """A set-point changed after a quiet spell is written at once (no delay)."""
    store(hass_storage, {UID: SETPOINTS})
    await start(hass, hub_entry)
    await online(hass)
    domain, action = service.split(".")
    entity_id = unit_entity_id(hass, UID, ("in", name))
    await hass.services.async_call(domain, action, {"entity_id": entity_id, **data}, blocking=True)
    await writes_due_now(hass)
    assert stored(hass_storage) == {UID: {**SETPOINTS, name: value}}
    assert type(stored(hass_storage)[UID][name]) is type(value)


async def test_burst_of_changes_written_once_per_interval(
    hass: HomeAssistant, hass_storage: dict[str, Any], hub_entry: MockConfigEntry
) -> None:
    """Changes right after a write wait for one write, ``WRITE_INTERVAL`` after it."""
    await start(hass, hub_entry)
    await online(hass)
    hub_entry.runtime_data.setpoints.clock = lambda: 500.0  # no time passes
    with patch("custom_components.makerhub.units.setpoints.async_call_later") as call_later:
        for level in (10, 20, 30):
            await hass.services.async_call(
                "number",
                "set_value",
                {ATTR_ENTITY_ID: unit_entity_id(hass, UID, ("in", "level")), "value": level},
                blocking=True,
            )
        await writes_due_now(hass)
    assert stored(hass_storage) == {UID: {"level": 10}}  # the first, at once
    ((_, delay, write),) = (call.args for call in call_later.call_args_list)
    assert delay == WRITE_INTERVAL  # the other two wait for one write
    write(None)
    await writes_due_now(hass)
    assert stored(hass_storage) == {UID: {"level": 30}}


async def test_live_value_becomes_setpoint(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
) -> None:
    """A value someone publishes on an input topic is the new set-point (stored, shown);
    the echo of the hub's own publish changes nothing."""
    store(hass_storage, {UID: SETPOINTS})
    await start(hass, hub_entry)
    await online(hass)
    async_fire_mqtt_message(hass, f"makerhub/{UID}/in/label", "Saw")
    await writes_due_now(hass)
    assert hass.states.get(unit_entity_id(hass, UID, ("in", "label"))).state == "Saw"
    assert stored(hass_storage)[UID]["label"] == "Saw"
    await retained_check(hass)  # the broker holds it now: not republished
    assert "label" not in inputs_published(mqtt_mock)


async def test_mqtt_reconnect_republishes_what_the_broker_lost(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
) -> None:
    """After Home Assistant's MQTT client reconnects, the broker's copies are checked
    again: what it lost (a restart without persistence) is published again."""
    store(hass_storage, {UID: {"level": 42, "relay": True}})
    await start(hass, hub_entry)
    async_fire_mqtt_message(hass, f"makerhub/{UID}/in/level", "42", retain=True)
    async_fire_mqtt_message(hass, f"makerhub/{UID}/in/relay", "true", retain=True)
    await online(hass)
    await retained_check(hass)
    assert inputs_published(mqtt_mock) == {}

    async_dispatcher_send(hass, MQTT_CONNECTION_STATE, False)
    async_dispatcher_send(hass, MQTT_CONNECTION_STATE, True)
    await hass.async_block_till_done(wait_background_tasks=True)
    # The broker sends its copies again after the re-subscription: only the relay's.
    async_fire_mqtt_message(hass, f"makerhub/{UID}/in/relay", "true")
    await retained_check(hass)
    assert inputs_published(mqtt_mock) == {"level": ("42", 1, True)}


async def test_unit_coming_online_gets_missing_setpoints(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
) -> None:
    """A unit coming online (live, not the broker's replay) gets the set-points whose
    retained copy is gone (cleared by some client); the others are not sent again."""
    store(hass_storage, {UID: {"level": 42, "relay": True}})
    await start(hass, hub_entry)
    async_fire_mqtt_message(hass, f"makerhub/{UID}/in/level", "42", retain=True)
    async_fire_mqtt_message(hass, f"makerhub/{UID}/in/relay", "true", retain=True)
    await online(hass)
    await retained_check(hass)
    async_fire_mqtt_message(hass, f"makerhub/{UID}/in/level", "")  # someone cleared it
    async_fire_mqtt_message(hass, f"makerhub/{OTHER}/in/level", "")  # not a unit: ignored
    await online(hass, retain=False)
    assert inputs_published(mqtt_mock) == {"level": ("42", 1, True)}
    assert hass.states.get(unit_entity_id(hass, UID, ("in", "level"))).state == "42.0"


@pytest.mark.parametrize(
    "hub_subentries",
    [[unit_subentry(uid=f"{n:012x}", title=f"Unit {n}", announce_id=None) for n in range(120)]],
)
async def test_republish_in_batches(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Many units' set-points (and schemas) go out in batches: each waits for the
    previous one's acks."""
    store(hass_storage, {f"{n:012x}": {"level": n % 100} for n in range(120)})
    in_flight = 0
    most = 0

    async def publish(topic: str, *args: Any) -> None:
        nonlocal in_flight, most
        if "/in/" not in topic and not topic.endswith("/sys/schema"):
            return
        in_flight += 1
        most = max(most, in_flight)
        await hass.async_add_executor_job(lambda: None)  # the broker's ack takes a turn
        in_flight -= 1

    mqtt_mock.async_publish.side_effect = publish
    caplog.set_level(logging.INFO)
    await start(hass, hub_entry)
    await retained_check(hass)
    assert most == REPUBLISH_BATCH
    levels = {
        call.args[0]: call.args[1]
        for call in mqtt_mock.async_publish.call_args_list
        if "/in/" in call.args[0]
    }
    assert levels == {f"makerhub/{n:012x}/in/level": str(n % 100) for n in range(120)}
    assert "Republished 240 retained topics the broker lacked" in caplog.text


async def test_republish_stops_when_the_broker_goes_away(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A failed republish is logged and the queue dropped: the reconnect checks again."""
    store(hass_storage, {UID: SETPOINTS})
    await start(hass, hub_entry)
    mqtt_mock.async_publish.side_effect = HomeAssistantError("not connected")
    await retained_check(hass)
    assert "Republishing retained topics failed: not connected" in caplog.text
    assert hub_entry.runtime_data.hub.retained.republisher.pending == 0
    assert hub_diagnostics(hub_entry.runtime_data.hub)["republish_pending"] == 0


async def test_changed_schema_fits_setpoints(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A new schema: a removed input's set-point is dropped and its retained topic
    cleared; one out of the new range is clamped and published; an option no longer
    offered is dropped and cleared; an input whose type changed keeps its value."""
    store(hass_storage, {UID: SETPOINTS})
    await start(hass, hub_entry)
    await online(hass)
    for name, text in WIRE.items():
        async_fire_mqtt_message(hass, f"makerhub/{UID}/in/{name}", text, retain=True)
    await retained_check(hass)
    mqtt_mock.async_publish.reset_mock()

    schema = json.loads(json.dumps(BENCH_SCHEMA))
    del schema["inputs"]["label"]
    schema["inputs"]["level"]["max"] = 40
    schema["inputs"]["preset"]["options"] = ["eco", "boost"]
    schema["inputs"]["target"] = {"type": "int", "min": 0, "max": 100}  # 21.5 → 22
    async_fire_mqtt_message(
        hass, f"makerhub/announce/{ANNOUNCE_ID}", announcement(schema=schema, unit=UID)
    )
    await hass.async_block_till_done(wait_background_tasks=True)

    assert inputs_published(mqtt_mock) == {
        "label": ("", 1, True),
        "preset": ("", 1, True),
        "level": ("40", 1, True),
        "target": ("22", 1, True),
    }
    assert stored(hass_storage) == {UID: {"target": 22, "relay": True, "level": 40}}
    assert hass.states.get("text.bench_label") is None
    assert hass.states.get(unit_entity_id(hass, UID, ("in", "level"))).state == "40.0"
    assert hass.states.get(unit_entity_id(hass, UID, ("in", "target"))).state == "22.0"
    assert hass.states.get(unit_entity_id(hass, UID, ("in", "preset"))).state == STATE_UNKNOWN
    assert "set-point preset='comfort' dropped (the new declaration refuses it)" in caplog.text
    assert "set-point level=42 is now 40 (fitted to the new declaration)" in caplog.text


async def test_corrupt_and_orphaned_setpoints_dropped(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    hub_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Stored values that are not set-points, that the schema refuses, or whose unit no
    longer exists are dropped with an error; the rest is shown."""
    store(
        hass_storage,
        {UID: {"level": 42, "preset": "turbo", "Bad": 1}, OTHER: {"level": 1}},
    )
    await start(hass, hub_entry)
    await online(hass)
    assert "Stored set-point dropped: unit '0123456789ab': input 'Bad' = 1" in caplog.text
    assert "set-point preset='turbo' dropped" in caplog.text
    assert hass.states.get(unit_entity_id(hass, UID, ("in", "level"))).state == "42.0"
    assert hass.states.get(unit_entity_id(hass, UID, ("in", "preset"))).state == STATE_UNKNOWN
    await writes_due_now(hass)
    assert stored(hass_storage) == {UID: {"level": 42}}


async def test_deleted_unit_forgets_setpoints_and_reload_keeps_them(
    hass: HomeAssistant, hass_storage: dict[str, Any], hub_entry: MockConfigEntry
) -> None:
    """Set-points still waiting are written when the hub stops (a reload reads them);
    deleting a unit forgets its set-points."""
    await start(hass, hub_entry)
    await online(hass)
    for level in (10, 20):  # the second waits for the pacer
        await hass.services.async_call(
            "number",
            "set_value",
            {ATTR_ENTITY_ID: unit_entity_id(hass, UID, ("in", "level")), "value": level},
            blocking=True,
        )
    assert await hass.config_entries.async_reload(hub_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert stored(hass_storage) == {UID: {"level": 20}}
    await online(hass)
    assert hass.states.get(unit_entity_id(hass, UID, ("in", "level"))).state == "20.0"

    (subentry,) = hub_entry.subentries.values()
    hass.config_entries.async_remove_subentry(hub_entry, subentry.subentry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=WRITE_INTERVAL))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert stored(hass_storage) == {}


async def test_entry_removal_deletes_setpoints(
    hass: HomeAssistant, hass_storage: dict[str, Any], hub_entry: MockConfigEntry
) -> None:
    """Removing the hub removes its stored set-points."""
    store(hass_storage, {UID: SETPOINTS})
    await start(hass, hub_entry)
    assert await hass.config_entries.async_remove(hub_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert STORAGE_KEY not in hass_storage


async def test_paced_write_done_when_home_assistant_stops(
    hass: HomeAssistant, hass_storage: dict[str, Any], hub_entry: MockConfigEntry
) -> None:
    """A change still waiting for its paced write is written when Home Assistant stops."""
    await start(hass, hub_entry)
    await online(hass)
    hub_entry.runtime_data.setpoints.clock = lambda: 500.0  # no time passes
    for level in (10, 20):
        await hass.services.async_call(
            "number",
            "set_value",
            {ATTR_ENTITY_ID: unit_entity_id(hass, UID, ("in", "level")), "value": level},
            blocking=True,
        )
    await writes_due_now(hass)
    assert stored(hass_storage) == {UID: {"level": 10}}
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    assert stored(hass_storage) == {UID: {"level": 20}}
    assert await hass.config_entries.async_unload(hub_entry.entry_id)  # nothing more to write


async def test_reconnect_before_the_first_check(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mqtt_mock: MqttMockHAClient,
    hub_entry: MockConfigEntry,
) -> None:
    """A reconnect while the start-up check waits replaces it, and a unit coming online
    meanwhile waits for it too: one check, one publish."""
    store(hass_storage, {UID: {"level": 42}})
    await start(hass, hub_entry)
    async_dispatcher_send(hass, MQTT_CONNECTION_STATE, True)
    await online(hass, retain=False)  # the check to come covers the unit: not published yet
    assert inputs_published(mqtt_mock) == {}
    await retained_check(hass)
    await retained_check(hass)
    levels = [
        call.args[1:]
        for call in mqtt_mock.async_publish.call_args_list
        if call.args[0] == f"makerhub/{UID}/in/level"
    ]
    assert levels == [("42", 1, True)]


async def test_queued_republish_skipped_when_no_longer_due(
    hass: HomeAssistant, hass_storage: dict[str, Any], hub_entry: MockConfigEntry
) -> None:
    """A queued topic is looked at again when its turn comes: a deleted unit, an input
    gone or without a set-point, or a copy the broker got back meanwhile is skipped."""
    store(hass_storage, {UID: {"level": 42}})
    await start(hass, hub_entry)
    hub = hub_entry.runtime_data.hub
    unit = hub.units[UID]
    assert hub.retained.stale_message(OTHER, None) is None
    assert hub.retained.stale_message(UID, "gone") is None
    assert hub.retained.stale_message(UID, "relay") is None  # no set-point
    assert hub.retained.stale_message(UID, "level") == (f"makerhub/{UID}/in/level", "42")
    assert hub.retained.stale_message(UID, None) == (
        unit.topics.sys("schema"),
        hub.publisher.schema_payload(unit),
    )
    async_fire_mqtt_message(hass, f"makerhub/{UID}/in/level", "42", retain=True)
    async_fire_mqtt_message(
        hass, unit.topics.sys("schema"), hub.publisher.schema_payload(unit), retain=True
    )
    await hass.async_block_till_done()
    assert hub.retained.stale_message(UID, "level") is None
    assert hub.retained.stale_message(UID, None) is None
