"""Health's repair fix flow: restart an unresponsive item again, its backoff started over."""

from __future__ import annotations

from typing import Any

from homeassistant.components.repairs import RepairsFlow
from homeassistant.data_entry_flow import FlowResult

from ..runtime import running_runtime


class HealthRestartFlow(RepairsFlow):
    """Confirm, then restart the item now and let the hub try its restarts again."""

    def __init__(self, item_id: str, name: str) -> None:
        """Fix the issue of ``item_id``."""
        self.item_id = item_id
        self.name = name

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Start with the confirmation."""
        return await self.async_step_confirm()

    async def async_step_confirm(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Restart the item once confirmed."""
        if user_input is None:
            return self.async_show_form(
                step_id="confirm", description_placeholders={"name": self.name}
            )
        if (runtime := running_runtime(self.hass)) is None:
            return self.async_abort(reason="hub_not_loaded")
        runtime.health.retry(self.item_id)
        return self.async_create_entry(data={})
