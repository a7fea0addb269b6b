"""One automation's inputs for each blueprint: what the config-check tests set up.

A blueprint added to ``blueprints/automation/makerhub/`` needs its entry here
(``test_every_blueprint_has_an_example`` says so)."""

from __future__ import annotations

from typing import Any

EXAMPLE_INPUTS: dict[str, dict[str, Any]] = {
    "makerhub_problem_alert.yaml": {
        "notify_action": "notify.makerhub_test",
        "reminder_minutes": 30,
        "cooldown_minutes": 5,
    },
    "makerhub_threshold_alert.yaml": {
        "sensor": "sensor.bench_climate_temperature",
        "direction": "above",
        "limit": 30,
        "hysteresis": 1,
        "notify_action": "notify.makerhub_test",
    },
    "makerhub_record_while_active.yaml": {
        "recording_switches": ["switch.bench_recording"],
        "off_delay": {"minutes": 5},
        "timelapse_cameras": ["camera.bench"],
    },
    "makerhub_clip_on_event.yaml": {
        "trigger": [{"trigger": "event", "event_type": "test_bell"}],
        "camera": "camera.bench",
        "duration": 30,
        "pre_roll": 10,
    },
    "makerhub_update_alert.yaml": {
        "notify_action": "notify.makerhub_test",
        "notify_data": {"priority": "high"},
    },
    "makerhub_follow_me_desktop.yaml": {
        "leave_delay": {"minutes": 2},
        "stations": ["workbench"],
    },
    "makerhub_follow_project_switch.yaml": {
        "stations": ["workbench"],
    },
    "makerhub_screens_off_when_empty.yaml": {
        "off_delay": {"minutes": 10},
        "screens": ["switch.workbench_screen"],
    },
    "makerhub_wake_on_touch.yaml": {
        "touch_sensors": ["sensor.workbench_touch"],
        "stay_on": {"minutes": 2},
    },
}
