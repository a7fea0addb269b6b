"""Bad input from the wire is dropped, counted and logged without flooding."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_mqtt_message

from tests.components.makerhub.conftest import UID, bring_online, unit_entity_id

OVERSIZED = "1" * (64 * 1024 + 1)


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (f"makerhub/{UID}/out/temperature", "warm", "wrong_type"),
        (f"makerhub/{UID}/out/temperature", "nan", "wrong_type"),
        (f"makerhub/{UID}/out/temperature", "500", "out_of_range"),
        (f"makerhub/{UID}/out/count", "1.5", "wrong_type"),
        (f"makerhub/{UID}/out/door", "maybe", "wrong_type"),
        (f"makerhub/{UID}/out/mode", "cooling", "out_of_range"),
        (f"makerhub/{UID}/out/note", "x" * 256, "out_of_range"),
        (f"makerhub/{UID}/out/temperature", b"\xff\xfe", "malformed"),
        (f"makerhub/{UID}/out/temperature", OVERSIZED, "oversized"),
        (f"makerhub/{UID}/out/humidity", "40", "unknown_variable"),
        (f"makerhub/{UID}/out/Temp", "40", "invalid_name"),
        (f"makerhub/{UID}/out/..", "40", "invalid_name"),
        (f"makerhub/{UID}/in/target", "99", "out_of_range"),
        ("makerhub/ffffffffffff/out/temperature", "20", "unknown_unit"),
        (f"makerhub/{UID}/sys/state", "{oops", "malformed"),
        (f"makerhub/{UID}/sys/state", json.dumps({"ip": "1.2.3.4"}), "wrong_type"),
        (f"makerhub/{UID}/sys/state", json.dumps([1, 2]), "malformed"),
        (f"makerhub/{UID}/sys/state", json.dumps({"version": "1", "rssi": "-5"}), "wrong_type"),
        (f"makerhub/{UID}/sys/status", "sleeping", "malformed"),
        (f"makerhub/{UID}/sys/log", json.dumps({"level": "loud", "text": "x"}), "wrong_type"),
        (f"makerhub/{UID}/sys/log", json.dumps([{"no": "text"}]), "malformed"),
        (f"makerhub/{UID}/sys/event", json.dumps({"event": "exploded"}), "malformed"),
        (
            f"makerhub/{UID}/sys/event",
            json.dumps({"event": "update_ok", "version": 3}),
            "wrong_type",
        ),
        (f"makerhub/{UID}/sys/reboot", "now", "bad_topic"),
        ("makerhub/announce/bad id!", "{}", "bad_topic"),
        ("makerhub/announce/x", "[]", "malformed"),
        ("makerhub/announce/x", json.dumps({"name": 5, "schema": {"name": "x"}}), "wrong_type"),
        (
            "makerhub/announce/x",
            json.dumps({"schema": {"name": "x", "inputs": {"a": {"type": "enum"}}}}),
            "malformed",
        ),
        (
            "makerhub/announce/x",
            json.dumps(
                {"schema": {"name": "x", "outputs": {"a": {"type": "str", "device_class": "door"}}}}
            ),
            "malformed",
        ),
    ],
)
async def test_bad_input_dropped_and_counted(
    hass: HomeAssistant, hub: MockConfigEntry, topic: str, payload: str | bytes, reason: str
) -> None:
    """Each kind of bad message is refused with its reason; good state is untouched."""
    await bring_online(hass)
    async_fire_mqtt_message(hass, f"makerhub/{UID}/out/temperature", "21")
    await hass.async_block_till_done()
    async_fire_mqtt_message(hass, topic, payload)
    await hass.async_block_till_done()
    counters = hub.runtime_data.hub.bad_input
    assert dict(counters.by_reason) == {reason: 1}
    assert hass.states.get(unit_entity_id(hass, UID, ("out", "temperature"))).state == "21.0"
    assert hass.states.get(unit_entity_id(hass, UID, ("sys", "connectivity"))).state == "on"
    assert not hub.runtime_data.hub.announced


async def test_bad_input_log_is_rate_limited(
    hass: HomeAssistant, hub: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """A flood of one kind of bad message logs once, and counts every one."""
    for _ in range(50):
        async_fire_mqtt_message(hass, f"makerhub/{UID}/out/temperature", "warm")
    async_fire_mqtt_message(hass, f"makerhub/{UID}/out/humidity", "1")
    await hass.async_block_till_done()
    assert caplog.text.count("Dropped a message (wrong_type)") == 1
    assert caplog.text.count("Dropped a message (unknown_variable)") == 1
    assert hub.runtime_data.hub.bad_input.by_reason["wrong_type"] == 50
    assert hub.runtime_data.hub.bad_input.by_unit[UID] == 51


async def test_hub_messages_on_own_topics_ignored(
    hass: HomeAssistant, hub: MockConfigEntry
) -> None:
    """The hub's own cmd/schema messages and cleared retained inputs are not bad input."""
    async_fire_mqtt_message(hass, f"makerhub/{UID}/sys/cmd", '{"cmd":"restart"}')
    async_fire_mqtt_message(hass, f"makerhub/{UID}/sys/schema", "{}")
    async_fire_mqtt_message(hass, f"makerhub/{UID}/in/target", "")
    async_fire_mqtt_message(hass, f"makerhub/{UID}/sys/status", "")
    async_fire_mqtt_message(hass, "makerhub/announce/gone", "")
    await hass.async_block_till_done()
    assert hub.runtime_data.hub.bad_input.total == 0
    assert hub.runtime_data.hub.units[UID].status is None
