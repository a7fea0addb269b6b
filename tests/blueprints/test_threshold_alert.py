"""*A variable crossed a threshold*: an automation from the blueprint, a unit's sensor
crossing its limit (and hovering around it), and what the notify action receives."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from .conftest import NOTIFY_ACTION, AutomationFactory, Notifications, settle

BLUEPRINT = "makerhub_threshold_alert.yaml"
SENSOR = "sensor.bench_climate_temperature"


async def set_value(hass: HomeAssistant, value: float | str) -> None:
    """Give the unit's sensor a new value, as the units feature writes it."""
    hass.states.async_set(
        SENSOR,
        str(value),
        {"unit_of_measurement": "°C", "friendly_name": "Bench climate Temperature"},
    )
    await settle(hass)


async def test_above_with_hysteresis_alerts_once_per_crossing(
    blueprint_hass: HomeAssistant,
    automation_from: AutomationFactory,
    notifications: Notifications,
) -> None:
    hass = blueprint_hass
    await set_value(hass, 25)
    await automation_from(
        BLUEPRINT,
        {
            "sensor": SENSOR,
            "direction": "above",
            "limit": 30,
            "hysteresis": 1,
            "notify_action": NOTIFY_ACTION,
        },
    )
    await set_value(hass, 31.5)
    # Hovering around the limit: below it, but not by the hysteresis, then above again.
    for value in (29.5, 30.5, 29.2, 31, "unavailable", 30.2):
        await set_value(hass, value)
    assert notifications.sent == [
        {
            "title": "Makerhub: Bench climate Temperature above 30°C",
            "message": "Bench climate Temperature is 31.5°C, above the limit of 30°C.",
            "data": {},
        }
    ]
    await set_value(hass, 28.9)  # past the hysteresis: back to normal
    await set_value(hass, 30.4)  # a new crossing: a new alert
    assert notifications.messages[1:] == [
        "Bench climate Temperature is back to normal: 28.9°C.",
        "Bench climate Temperature is 30.4°C, above the limit of 30°C.",
    ]


async def test_below_for_a_while_without_a_normal_message(
    blueprint_hass: HomeAssistant,
    automation_from: AutomationFactory,
    notifications: Notifications,
    freezer: FrozenDateTimeFactory,
) -> None:
    """*Below* with *for at least*: one odd reading does not alert, a lasting one does."""
    hass = blueprint_hass
    await set_value(hass, 12)
    await automation_from(
        BLUEPRINT,
        {
            "sensor": SENSOR,
            "direction": "below",
            "limit": 10,
            "hysteresis": 2,
            "for_duration": {"minutes": 5},
            "notify_action": NOTIFY_ACTION,
            "announce_normal": False,
        },
    )
    await set_value(hass, 9)
    freezer.tick(timedelta(minutes=2))
    async_fire_time_changed(hass)
    await set_value(hass, 11)  # back above before five minutes: nothing
    freezer.tick(timedelta(minutes=10))
    async_fire_time_changed(hass)
    await settle(hass)
    assert notifications.sent == []

    await set_value(hass, 8)
    freezer.tick(timedelta(minutes=5, seconds=1))
    async_fire_time_changed(hass)
    await settle(hass)
    assert notifications.messages == ["Bench climate Temperature is 8°C, below the limit of 10°C."]
    await set_value(hass, 12.5)  # normal again (above 10 + 2), no message asked for
    await set_value(hass, 9.5)
    freezer.tick(timedelta(minutes=6))
    async_fire_time_changed(hass)
    await settle(hass)
    assert notifications.messages == [
        "Bench climate Temperature is 8°C, below the limit of 10°C.",
        "Bench climate Temperature is 9.5°C, below the limit of 10°C.",
    ]
