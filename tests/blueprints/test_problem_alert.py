"""*Something stopped working*: an automation from the blueprint, the health feature's
``makerhub_health_problem`` / ``makerhub_health_recovered`` events (their data as
``docs/health.md`` documents it), and what the notify action receives: once per problem,
reminders, the cooldown before a recovery is announced, the test alert."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from .conftest import NOTIFY_ACTION, AutomationFactory, Notifications, settle

BLUEPRINT = "makerhub_problem_alert.yaml"
PROBLEM = "makerhub_health_problem"
RECOVERED = "makerhub_health_recovered"
BROKER = {"item": "broker", "name": "Broker", "kind": "broker"}
UNIT = {"item": "unit:0123456789ab", "name": "Bench climate", "kind": "unit"}


def health_event(
    who: dict[str, str], message: str, *, since: str, root_cause: str | None = None
) -> dict[str, Any]:
    """Return a health event's data as the health feature fires it."""
    at = dt_util.utcnow()
    return {
        **who,
        "root_cause": root_cause or who["item"],
        "root_cause_name": who["name"],
        "message": message,
        "since": since,
        "at": at.isoformat(),
        "down_for": round((at - dt_util.parse_datetime(since)).total_seconds(), 1),
        "test": False,
    }


async def later(hass: HomeAssistant, freezer: FrozenDateTimeFactory, **delta: float) -> None:
    """Move the clock on and run what became due."""
    freezer.tick(timedelta(**delta))
    async_fire_time_changed(hass)
    await settle(hass)


async def test_one_alert_reminders_and_one_recovery(
    blueprint_hass: HomeAssistant,
    automation_from: AutomationFactory,
    notifications: Notifications,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to("2026-03-02 09:00:00+00:00")
    hass = blueprint_hass
    await hass.config.async_update(time_zone="Europe/Amsterdam")  # reminders say local time
    await automation_from(
        BLUEPRINT,
        {"notify_action": NOTIFY_ACTION, "reminder_minutes": 30, "cooldown_minutes": 5},
    )
    since = dt_util.utcnow().isoformat()
    hass.bus.async_fire(
        PROBLEM, health_event(BROKER, "Broker: the MQTT connection is lost", since=since)
    )
    # Not the health feature's (it fires root causes only), but a child's event is skipped.
    hass.bus.async_fire(
        PROBLEM, health_event(UNIT, "Bench climate: offline", since=since, root_cause="broker")
    )
    await settle(hass)
    assert notifications.sent == [
        {
            "title": "Makerhub: Broker stopped working",
            "message": "Broker: the MQTT connection is lost",
            "data": {},
        }
    ]
    await later(hass, freezer, minutes=29)
    assert len(notifications.sent) == 1
    await later(hass, freezer, minutes=1, seconds=1)
    await later(hass, freezer, minutes=30)
    assert notifications.messages[1:] == [
        "Still not working since 2026-03-02 10:00: Broker: the MQTT connection is lost",
        "Still not working since 2026-03-02 10:00: Broker: the MQTT connection is lost",
    ]
    hass.bus.async_fire(RECOVERED, health_event(BROKER, "Broker works again", since=since))
    await settle(hass)
    await later(hass, freezer, minutes=4)
    assert len(notifications.sent) == 3  # the recovery waits for the cooldown
    await later(hass, freezer, minutes=1, seconds=1)
    assert notifications.messages[3:] == ["Broker works again (it was down for 60 min)."]
    assert notifications.sent[3]["title"] == "Makerhub: Broker works again"
    await later(hass, freezer, hours=5)
    assert len(notifications.sent) == 4


async def test_a_flapping_part_sends_no_recovery_per_flap(
    blueprint_hass: HomeAssistant,
    automation_from: AutomationFactory,
    notifications: Notifications,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Each new problem is announced (the health feature fires one event per problem), but
    a recovery is announced only once the part has worked for the whole cooldown."""
    hass = blueprint_hass
    await automation_from(
        BLUEPRINT,
        {"notify_action": NOTIFY_ACTION, "reminder_minutes": 0, "cooldown_minutes": 5},
    )
    for _ in range(3):
        since = dt_util.utcnow().isoformat()
        hass.bus.async_fire(PROBLEM, health_event(UNIT, "Bench climate: offline", since=since))
        await settle(hass)
        await later(hass, freezer, minutes=1)
        hass.bus.async_fire(RECOVERED, health_event(UNIT, "works", since=since))
        await settle(hass)
        await later(hass, freezer, minutes=2)
    await later(hass, freezer, minutes=3, seconds=1)
    await later(hass, freezer, hours=2)  # no reminders asked for
    assert notifications.messages == [
        "Bench climate: offline",
        "Bench climate: offline",
        "Bench climate: offline",
        "Bench climate works again (it was down for 1 min).",
    ]


async def test_the_test_alert_is_sent_once(
    blueprint_hass: HomeAssistant,
    automation_from: AutomationFactory,
    notifications: Notifications,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The *Send test alert* button's event (``item: test``, ``test: true``) is sent like
    a problem, with no reminder and no recovery to wait for."""
    hass = blueprint_hass
    await automation_from(BLUEPRINT, {"notify_action": NOTIFY_ACTION, "reminder_minutes": 1})
    event = health_event(
        {"item": "test", "name": "Test alert", "kind": "test"},
        "Makerhub test alert: alerts reach you",
        since=dt_util.utcnow().isoformat(),
    )
    hass.bus.async_fire(PROBLEM, {**event, "test": True})
    await settle(hass)
    await later(hass, freezer, minutes=10)
    assert notifications.sent == [
        {
            "title": "Makerhub: test alert",
            "message": "Makerhub test alert: alerts reach you",
            "data": {},
        }
    ]
    assert hass.states.get("automation.from_blueprint").attributes["current"] == 0


async def test_no_cooldown_announces_the_recovery_at_once(
    blueprint_hass: HomeAssistant,
    automation_from: AutomationFactory,
    notifications: Notifications,
    freezer: FrozenDateTimeFactory,
) -> None:
    hass = blueprint_hass
    await automation_from(
        BLUEPRINT,
        {
            "other_actions": [
                {
                    "action": NOTIFY_ACTION,
                    "data": {"message": "{{ kind }} {{ item }}: {{ message }}"},
                }
            ],
            "cooldown_minutes": 0,
            "reminder_minutes": 0,
        },
    )
    since = dt_util.utcnow().isoformat()
    hass.bus.async_fire(PROBLEM, health_event(UNIT, "Bench climate: offline", since=since))
    await settle(hass)
    await later(hass, freezer, minutes=3)
    hass.bus.async_fire(RECOVERED, health_event(UNIT, "works", since=since))
    await settle(hass)
    assert notifications.messages == [
        "problem unit:0123456789ab: Bench climate: offline",
        "recovered unit:0123456789ab: Bench climate works again (it was down for 3 min).",
    ]


async def test_no_recovery_message_when_not_asked_for(
    blueprint_hass: HomeAssistant,
    automation_from: AutomationFactory,
    notifications: Notifications,
    freezer: FrozenDateTimeFactory,
) -> None:
    hass = blueprint_hass
    await automation_from(BLUEPRINT, {"notify_action": NOTIFY_ACTION, "announce_recovery": False})
    since = dt_util.utcnow().isoformat()
    hass.bus.async_fire(PROBLEM, health_event(BROKER, "Broker: refused", since=since))
    await settle(hass)
    hass.bus.async_fire(RECOVERED, health_event(BROKER, "works", since=since))
    await settle(hass)
    await later(hass, freezer, minutes=5, seconds=1)
    assert notifications.messages == ["Broker: refused"]
    assert hass.states.get("automation.from_blueprint").attributes["current"] == 0
