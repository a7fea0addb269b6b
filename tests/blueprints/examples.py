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
    "makerhub_update_alert.yaml": {
        "notify_action": "notify.makerhub_test",
        "notify_data": {"priority": "high"},
    },
}
