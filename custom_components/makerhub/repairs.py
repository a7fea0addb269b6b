"""The hub's repairs platform: each fixable repair issue handed to its feature's fix flow.

``desktops/repairs.py`` and ``cameras/repairs.py`` (a refused desktops or recorder token
replaced), ``health/repairs.py`` (an unresponsive unit restarted again),
``first_run/repairs.py`` (a next step taken).
"""

from __future__ import annotations

from homeassistant.components.repairs import RepairsFlow
from homeassistant.core import HomeAssistant

from .cameras.manager import ISSUE_TOKEN_REFUSED as RECORDER_TOKEN_REFUSED
from .cameras.options import CamerasOptions
from .cameras.repairs import RecorderTokenFlow
from .const import SUBENTRY_STATION
from .desktops.manager import ISSUE_TOKEN_REFUSED
from .desktops.options import DesktopsOptions
from .desktops.repairs import DesktopsTokenFlow
from .firmware.options import FirmwareOptions
from .first_run.repairs import OptionsStepFix, SubentryStepFix, fix_flow_class, next_step_fix_flow
from .first_run.steps import (
    ISSUE_PREFIX as NEXT_STEP_PREFIX,
    STEP_DESKTOPS,
    STEP_FIRMWARE,
    STEP_RECORDER,
    STEP_STATION,
    STEP_TELEMETRY,
)
from .health.manager import ISSUE_UNRESPONSIVE
from .health.repairs import HealthRestartFlow
from .presence.flow import StationSubentryFlow
from .telemetry.options import TelemetryOptions

NEXT_STEP_FLOWS = {
    STEP_FIRMWARE: fix_flow_class(OptionsStepFix, FirmwareOptions, section="firmware"),
    STEP_TELEMETRY: fix_flow_class(OptionsStepFix, TelemetryOptions, section="telemetry"),
    STEP_DESKTOPS: fix_flow_class(OptionsStepFix, DesktopsOptions, section="desktops"),
    STEP_RECORDER: fix_flow_class(OptionsStepFix, CamerasOptions, section="cameras"),
    STEP_STATION: fix_flow_class(
        SubentryStepFix, StationSubentryFlow, subentry_type=SUBENTRY_STATION
    ),
}
"""The first run's next steps, each the existing options or subentry step in a repair."""


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """Return the fix flow of a fixable issue (only fixable issues get here)."""
    if issue_id == ISSUE_TOKEN_REFUSED and data is not None:
        return DesktopsTokenFlow(str(data["entry_id"]))
    if issue_id == RECORDER_TOKEN_REFUSED and data is not None:
        return RecorderTokenFlow(str(data["entry_id"]))
    if issue_id.startswith(f"{ISSUE_UNRESPONSIVE}_") and data is not None:
        return HealthRestartFlow(str(data["item"]), str(data.get("name") or data["item"]))
    if issue_id.startswith(NEXT_STEP_PREFIX) and data is not None:
        return next_step_fix_flow(NEXT_STEP_FLOWS, data)
    raise ValueError(f"no fix flow for the repair issue {issue_id}")
