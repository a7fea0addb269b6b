"""*Something stopped working*: an automation from the blueprint, the health feature's
problem and recovery events, and what the notify action receives (root causes only, the
reminders, the cooldown, the recovery message)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from .conftest import NOTIFY_ACTION, AutomationFactory, Notifications, settle

BLUEPRINT = "makerhub_problem_alert.yaml"
PROBLEM = "makerhub_health_problem"
RECOVERED = "makerhub_health_recovered"
BROKER = {"item": "broker", "name": "Broker"}
UNIT = {"item": "unit:0123456789ab", "name": "Bench climate"}


def problem(
    who: dict[str, str],
    reason: str,
    *,
    root_cause: bool = True,
    last_recovered: datetime | None = None,
) -> dict[str, Any]:
    """Return a ``makerhub_health_problem`` event's data."""
    return {
        **who,
        "reason": reason,
        "root_cause": root_cause,
        "because_of": None if root_cause else "broker",
        "last_recovered": last_recovered.isoformat() if last_recovered else None,
    }


async def later(hass: HomeAssistant, freezer: FrozenDateTimeFactory, **delta: float) -> None:
    """Move the clock on and run what became due."""
    freezer.tick(timedelta(**delta))
    async_fire_time_changed(hass)
    await settle(hass)


async def test_root_cause_alert_reminders_and_recovery(
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
    hass.bus.async_fire(PROBLEM, problem(BROKER, "connection refused"))
    # Its units are down because of it: no alert for them.
    hass.bus.async_fire(PROBLEM, problem(UNIT, "no state for 60 s", root_cause=False))
    await settle(hass)
    assert notifications.sent == [
        {
            "title": "Makerhub: Broker stopped working",
            "message": "Broker stopped working: connection refused",
            "data": {},
        }
    ]
    await later(hass, freezer, minutes=29)
    assert len(notifications.sent) == 1
    await later(hass, freezer, minutes=1, seconds=1)
    await later(hass, freezer, minutes=30)
    assert notifications.messages[1:] == [
        "Broker is still not working (since 2026-03-02 10:00): connection refused",
        "Broker is still not working (since 2026-03-02 10:00): connection refused",
    ]
    hass.bus.async_fire(RECOVERED, {**BROKER})
    hass.bus.async_fire(RECOVERED, {**UNIT})
    await settle(hass)
    await later(hass, freezer, minutes=4)
    assert len(notifications.sent) == 3  # the recovery waits for the cooldown
    await later(hass, freezer, minutes=1, seconds=1)
    assert notifications.messages[3:] == ["Broker works again."]
    assert notifications.sent[3]["title"] == "Makerhub: Broker works again"
    await later(hass, freezer, hours=5)
    assert len(notifications.sent) == 4


async def test_a_flapping_part_is_one_incident(
    blueprint_hass: HomeAssistant,
    automation_from: AutomationFactory,
    notifications: Notifications,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Failing again within the cooldown of its recovery: no new alert and no recovery
    message until it has worked for the whole cooldown."""
    freezer.move_to("2026-03-02 09:00:00+00:00")
    hass = blueprint_hass
    await automation_from(
        BLUEPRINT,
        {"notify_action": NOTIFY_ACTION, "reminder_minutes": 0, "cooldown_minutes": 5},
    )
    hass.bus.async_fire(PROBLEM, problem(UNIT, "no state for 60 s"))
    await settle(hass)
    for _ in range(3):
        await later(hass, freezer, minutes=1)
        recovered_at = dt_util.utcnow()
        hass.bus.async_fire(RECOVERED, {**UNIT})
        await later(hass, freezer, minutes=2)
        hass.bus.async_fire(
            PROBLEM, problem(UNIT, "no state for 60 s", last_recovered=recovered_at)
        )
        await settle(hass)
    assert notifications.messages == ["Bench climate stopped working: no state for 60 s"]
    hass.bus.async_fire(RECOVERED, {**UNIT})
    await later(hass, freezer, minutes=5, seconds=1)
    await later(hass, freezer, hours=2)  # no reminders asked for
    assert notifications.messages == [
        "Bench climate stopped working: no state for 60 s",
        "Bench climate works again.",
    ]


async def test_a_failure_after_the_cooldown_is_a_new_incident(
    blueprint_hass: HomeAssistant,
    automation_from: AutomationFactory,
    notifications: Notifications,
    freezer: FrozenDateTimeFactory,
) -> None:
    hass = blueprint_hass
    await automation_from(
        BLUEPRINT,
        {
            "notify_action": NOTIFY_ACTION,
            "cooldown_minutes": 5,
            "announce_recovery": False,
        },
    )
    hass.bus.async_fire(PROBLEM, problem(UNIT, "crash loop"))
    await settle(hass)
    recovered_at = dt_util.utcnow()
    hass.bus.async_fire(RECOVERED, {**UNIT})
    await later(hass, freezer, minutes=6)
    hass.bus.async_fire(PROBLEM, problem(UNIT, "crash loop", last_recovered=recovered_at))
    await settle(hass)
    assert notifications.messages == [
        "Bench climate stopped working: crash loop",
        "Bench climate stopped working: crash loop",
    ]


async def test_without_last_recovered_a_new_failure_is_announced_once(
    blueprint_hass: HomeAssistant,
    automation_from: AutomationFactory,
    notifications: Notifications,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An event that does not say when the part last recovered cannot be told from a new
    incident: the new run announces it, the held one steps back without a recovery
    message, and the new incident's recovery is announced once."""
    hass = blueprint_hass
    await automation_from(BLUEPRINT, {"notify_action": NOTIFY_ACTION, "cooldown_minutes": 5})
    hass.bus.async_fire(PROBLEM, problem(BROKER, "refused"))
    await settle(hass)
    hass.bus.async_fire(RECOVERED, {**BROKER})
    await later(hass, freezer, minutes=1)
    hass.bus.async_fire(PROBLEM, problem(BROKER, "refused again"))
    await settle(hass)
    hass.bus.async_fire(RECOVERED, {**BROKER})
    await later(hass, freezer, minutes=5, seconds=1)
    await later(hass, freezer, minutes=30)
    assert notifications.messages == [
        "Broker stopped working: refused",
        "Broker stopped working: refused again",
        "Broker works again.",
    ]


async def test_no_cooldown_announces_the_recovery_at_once(
    blueprint_hass: HomeAssistant,
    automation_from: AutomationFactory,
    notifications: Notifications,
) -> None:
    hass = blueprint_hass
    await automation_from(
        BLUEPRINT, {"notify_action": NOTIFY_ACTION, "cooldown_minutes": 0, "reminder_minutes": 0}
    )
    hass.bus.async_fire(PROBLEM, problem(UNIT, "offline"))
    await settle(hass)
    hass.bus.async_fire(RECOVERED, {**UNIT})
    await settle(hass)
    assert notifications.messages == [
        "Bench climate stopped working: offline",
        "Bench climate works again.",
    ]
