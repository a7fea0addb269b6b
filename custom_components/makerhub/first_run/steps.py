"""Which next steps are open, kept in step with the repair issues offering them.

:func:`async_update_next_steps` runs when the hub is set up (after every change of its
options or stations, which reload it) and when an add-on announces itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from homeassistant.config_entries import SOURCE_HASSIO, ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from ..cameras.manager import CONF_RECORDER_URL
from ..const import CONF_TELEMETRY_DSN, DOMAIN
from ..desktops.manager import CONF_DESKTOPS_URL
from ..firmware.manager import CONF_FIRMWARE_URL
from ..presence.manager import station_subentries

ISSUE_PREFIX: Final = "next_step_"
STEP_FIRMWARE: Final = "firmware"
STEP_TELEMETRY: Final = "telemetry"
STEP_STATION: Final = "station"
STEP_DESKTOPS: Final = "desktops"
STEP_RECORDER: Final = "recorder"


def issue_id(step: str) -> str:
    """Return the repair issue id offering ``step``."""
    return f"{ISSUE_PREFIX}{step}"


def _addon_found(hass: HomeAssistant, kind: str) -> bool:
    """Return whether an add-on of ``kind`` announced itself (its discovery is waiting)."""
    return any(
        flow["context"].get("source") == SOURCE_HASSIO
        and str(flow["context"].get("unique_id") or "").startswith(f"{kind}-")
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    )


@dataclass(frozen=True, slots=True)
class NextStep:
    """A step offered while ``open`` says it is not done."""

    key: str
    open: Callable[[HomeAssistant, ConfigEntry], bool]


NEXT_STEPS: Final = (
    NextStep(STEP_FIRMWARE, lambda _hass, entry: not entry.options.get(CONF_FIRMWARE_URL)),
    NextStep(STEP_TELEMETRY, lambda _hass, entry: not entry.options.get(CONF_TELEMETRY_DSN)),
    NextStep(STEP_STATION, lambda _hass, entry: not station_subentries(entry)),
    NextStep(
        STEP_DESKTOPS,
        lambda hass, entry: (
            not entry.options.get(CONF_DESKTOPS_URL) and _addon_found(hass, STEP_DESKTOPS)
        ),
    ),
    NextStep(
        STEP_RECORDER,
        lambda hass, entry: (
            not entry.options.get(CONF_RECORDER_URL) and _addon_found(hass, STEP_RECORDER)
        ),
    ),
)
"""In the order they are best taken."""


@callback
def async_update_next_steps(hass: HomeAssistant, entry: ConfigEntry) -> list[str]:
    """Offer each open step as a repair issue, withdraw the done ones; return the open."""
    open_steps: list[str] = []
    for step in NEXT_STEPS:
        if step.open(hass, entry):
            open_steps.append(step.key)
            ir.async_create_issue(
                hass,
                DOMAIN,
                issue_id(step.key),
                is_fixable=True,
                is_persistent=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=issue_id(step.key),
                data={"entry_id": entry.entry_id, "step": step.key},
            )
        else:
            ir.async_delete_issue(hass, DOMAIN, issue_id(step.key))
    return open_steps
