"""*An update failed or rolled back*: an automation from the blueprint, the firmware
feature's ``makerhub_update_finished`` events, and what the notify action receives."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant

from custom_components.makerhub.firmware.manager import EVENT_UPDATE_FINISHED, UpdateStatus

from .conftest import NOTIFY_ACTION, AutomationFactory, Notifications

BLUEPRINT = "makerhub_update_alert.yaml"


def finished(result: UpdateStatus, error: str | None, **extra: Any) -> dict[str, Any]:
    """Return one unit's ``makerhub_update_finished`` data as the firmware manager fires it."""
    return {
        "unit": "0123456789ab",
        "name": "Bench climate",
        "version": "v1.2.0",
        "result": result.value,
        "error": error,
        "rollout": None,
        **extra,
    }


async def test_failed_and_rolled_back_updates_alert_once_each(
    blueprint_hass: HomeAssistant,
    automation_from: AutomationFactory,
    notifications: Notifications,
) -> None:
    await automation_from(
        BLUEPRINT, {"notify_action": NOTIFY_ACTION, "notify_data": {"priority": "high"}}
    )
    hass = blueprint_hass
    hass.bus.async_fire(EVENT_UPDATE_FINISHED, finished(UpdateStatus.SUCCESS, None))
    await hass.async_block_till_done()
    assert notifications.sent == []

    hass.bus.async_fire(
        EVENT_UPDATE_FINISHED,
        finished(UpdateStatus.ERROR, "rolled_back: main.py exited with status 1"),
    )
    await hass.async_block_till_done()
    hass.bus.async_fire(
        EVENT_UPDATE_FINISHED,
        finished(UpdateStatus.ERROR, "the unit did not report v1.2.0 in time"),
    )
    await hass.async_block_till_done()
    assert notifications.sent == [
        {
            "title": "Makerhub: Bench climate rolled back",
            "message": "Bench climate rolled back from v1.2.0 to the version it ran before: "
            "rolled_back: main.py exited with status 1",
            "data": {"priority": "high"},
        },
        {
            "title": "Makerhub: update of Bench climate failed",
            "message": "The update of Bench climate to v1.2.0 failed: the unit did not report "
            "v1.2.0 in time",
            "data": {"priority": "high"},
        },
    ]


def rollout_summary(failed: int) -> dict[str, Any]:
    """Return a rollout's end as the firmware manager fires it (``unit: None``)."""
    return {
        "unit": None,
        "rollout": "r1",
        "state": "finished",
        "total": 3,
        "done": 3,
        "succeeded": 3 - failed,
        "failed": failed,
        "skipped": 0,
        "in_progress": [],
        "queued": [],
        "errors": {"aa00000000aa": "update_failed: sha256 mismatch"} if failed else {},
    }


async def test_a_rollout_with_failures_sends_one_summary(
    blueprint_hass: HomeAssistant,
    automation_from: AutomationFactory,
    notifications: Notifications,
) -> None:
    await automation_from(BLUEPRINT, {"notify_action": NOTIFY_ACTION})
    blueprint_hass.bus.async_fire(EVENT_UPDATE_FINISHED, rollout_summary(failed=0))
    blueprint_hass.bus.async_fire(EVENT_UPDATE_FINISHED, rollout_summary(failed=1))
    await blueprint_hass.async_block_till_done()
    assert notifications.messages == [
        (
            "1 of 3 units failed to update (2 updated, 0 skipped): "
            "aa00000000aa: update_failed: sha256 mismatch"
        )
    ]
    assert notifications.sent[0]["title"] == "Makerhub: firmware rollout ended with failures"


async def test_rollout_summaries_can_be_left_out(
    blueprint_hass: HomeAssistant,
    automation_from: AutomationFactory,
    notifications: Notifications,
) -> None:
    await automation_from(BLUEPRINT, {"notify_action": NOTIFY_ACTION, "announce_rollouts": False})
    blueprint_hass.bus.async_fire(EVENT_UPDATE_FINISHED, rollout_summary(failed=2))
    await blueprint_hass.async_block_till_done()
    assert notifications.sent == []


async def test_other_actions_get_the_message(
    blueprint_hass: HomeAssistant,
    automation_from: AutomationFactory,
    notifications: Notifications,
) -> None:
    """Without a notify action, the user's own actions run with the title and message."""
    await automation_from(
        BLUEPRINT,
        {
            "other_actions": [
                {
                    "action": NOTIFY_ACTION,
                    "data": {"message": "{{ kind }} {{ unit }}: {{ title }}"},
                }
            ]
        },
    )
    blueprint_hass.bus.async_fire(
        EVENT_UPDATE_FINISHED, finished(UpdateStatus.ERROR, "update_failed: no space left")
    )
    await blueprint_hass.async_block_till_done()
    assert notifications.messages == [
        "failed 0123456789ab: Makerhub: update of Bench climate failed"
    ]
