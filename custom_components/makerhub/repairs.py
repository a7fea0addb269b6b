"""The hub's repairs platform: the fix flows of its fixable repair issues, by issue id."""

from __future__ import annotations

from homeassistant.components.repairs import RepairsFlow
from homeassistant.core import HomeAssistant

from .desktops.manager import ISSUE_TOKEN_REFUSED
from .desktops.repairs import DesktopsTokenFlow


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """Return the fix flow of ``issue_id`` (only fixable issues get here)."""
    if issue_id == ISSUE_TOKEN_REFUSED and data is not None:
        return DesktopsTokenFlow(str(data["entry_id"]))
    raise ValueError(f"no fix flow for the repair issue {issue_id}")
