"""The *a variable crossed a threshold* blueprint on a real unit's output sensor: the
unit publishes its temperature on MQTT, the automation made from the blueprint alerts
once per crossing, not while the value hovers around the limit (hysteresis)."""

from __future__ import annotations

from pathlib import Path

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
)

from tests.components.makerhub.conftest import UID, bring_online, unit_entity_id
from tests.helpers.blueprints import (
    NOTIFY_ACTION,
    async_automation_from,
    record_notifications,
    settle,
    use_blueprints,
)


async def test_threshold_alert_on_a_unit_output(
    hass: HomeAssistant, hub: MockConfigEntry, tmp_path: Path
) -> None:
    await bring_online(hass)
    sensor = unit_entity_id(hass, UID, ("out", "temperature"))

    async def publish(value: str) -> None:
        async_fire_mqtt_message(hass, f"makerhub/{UID}/out/temperature", value)
        await settle(hass)

    await publish("22.0")
    use_blueprints(hass, tmp_path / "config")
    notifications = record_notifications(hass)
    await async_automation_from(
        hass,
        "makerhub_threshold_alert.yaml",
        {
            "sensor": sensor,
            "direction": "above",
            "limit": 30,
            "hysteresis": 1.5,
            "notify_action": NOTIFY_ACTION,
        },
    )
    name = hass.states.get(sensor).attributes["friendly_name"]
    for value in ("29.0", "30.5", "29.9", "30.8", "29.0", "31.2", "28.4", "30.1"):
        await publish(value)
    assert notifications.messages == [
        f"{name} is 30.5°C, above the limit of 30°C.",
        f"{name} is back to normal: 28.4°C.",
        f"{name} is 30.1°C, above the limit of 30°C.",
    ]
    await hass.config_entries.async_unload(hub.entry_id)
