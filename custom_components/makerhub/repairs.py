"""Repair fix flows: each feature's, by the issue they fix.

health/repairs.py (an unresponsive unit restarted again).
"""

from __future__ import annotations

from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.core import HomeAssistant

from .health.manager import ISSUE_UNRESPONSIVE
from .health.repairs import HealthRestartFlow


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """Return the fix flow of a fixable issue."""
    if issue_id.startswith(f"{ISSUE_UNRESPONSIVE}_") and data is not None:
        return HealthRestartFlow(str(data["item"]), str(data.get("name") or data["item"]))
    return ConfirmRepairFlow()
