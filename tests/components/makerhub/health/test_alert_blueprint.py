"""The *something stopped working* blueprint on the health feature's own events: the
broker goes down under two units (one alert, naming it), comes back (one recovery after
the cooldown), and the Send test alert button (one test alert)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.mqtt import config_flow as _mqtt_flow  # noqa: F401
from homeassistant.components.mqtt.const import MQTT_CONNECTION_STATE
from homeassistant.core import HomeAssistant
from homeassistant.helpers.dispatcher import async_dispatcher_send
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
    async_fire_time_changed,
)

from tests.components.makerhub.conftest import UID, bring_online, state_payload, unit_subentry
from tests.helpers.blueprints import (
    NOTIFY_ACTION,
    async_automation_from,
    record_notifications,
    settle,
    use_blueprints,
)

SECOND_UID = "ba9876543210"


async def later(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await settle(hass)


@pytest.mark.parametrize(
    "hub_subentries",
    [[unit_subentry(), unit_subentry(SECOND_UID, "Lathe", announce_id="lathe")]],
)
async def test_problem_alert_on_the_health_feature(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hub: MockConfigEntry,
    tmp_path: Path,
) -> None:
    await bring_online(hass)
    await bring_online(hass, SECOND_UID)
    use_blueprints(hass, tmp_path / "config")
    notifications = record_notifications(hass)
    await async_automation_from(
        hass,
        "makerhub_problem_alert.yaml",
        {"notify_action": NOTIFY_ACTION, "reminder_minutes": 0, "cooldown_minutes": 1},
    )
    async_dispatcher_send(hass, MQTT_CONNECTION_STATE, False)
    await settle(hass)
    await later(hass, freezer, 600)  # the units' heartbeats are late too: no alerts
    async_dispatcher_send(hass, MQTT_CONNECTION_STATE, True)
    await settle(hass)
    for _ in range(4):  # the units report every 20 s through the cooldown
        for uid in (UID, SECOND_UID):  # (bring_online would wait for the alert's run)
            async_fire_mqtt_message(hass, f"makerhub/{uid}/sys/status", "online")
            async_fire_mqtt_message(hass, f"makerhub/{uid}/sys/state", state_payload())
        await settle(hass)
        await later(hass, freezer, 20)
    assert notifications.sent == [
        {
            "title": "Makerhub: Broker stopped working",
            "message": "Broker: the MQTT connection is lost",
            "data": {},
        },
        {
            "title": "Makerhub: Broker works again",
            "message": "Broker works again (it was down for 10 min).",
            "data": {},
        },
    ]
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.makerhub_send_test_alert"}, blocking=True
    )
    await settle(hass)
    assert len(notifications.sent) == 3
    assert notifications.sent[2]["title"] == "Makerhub: test alert"
    print("TEST ALERT:", notifications.sent[2]["message"])
    await hass.config_entries.async_unload(hub.entry_id)
