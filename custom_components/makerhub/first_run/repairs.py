"""The next steps' fix flows: the existing options step (or the station's subentry step)
run inside the repair, its result saved as that step saves it.

A section of the options flow is a mixin whose step reads ``config_entry`` and finishes
with ``save``; here ``config_entry`` is the hub's entry and ``save`` updates its options
(which reloads the hub) before the repair ends. A subentry flow's step (the
station's) ends with ``async_create_entry(title, data)``; here that adds the subentry.

The feature classes are put together with these in the top-level ``repairs.py`` (an
entry point: a feature's flows and options are its own).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, cast

from homeassistant.components.repairs import RepairsFlow
from homeassistant.config_entries import ConfigEntry, ConfigFlowResult, ConfigSubentry
from homeassistant.data_entry_flow import FlowHandler, FlowResult

from .steps import async_update_next_steps


class HubFix(RepairsFlow):
    """A fix flow working on the hub's entry: first what the step is for, then its form."""

    init_step = "init"  # not the subentry flow's ``user``

    def __init__(self, entry_id: str) -> None:
        """Fix the next step of the hub ``entry_id``."""
        self._hub_entry_id = entry_id

    def _hub_entry(self) -> ConfigEntry:
        return self.hass.config_entries.async_get_known_entry(self._hub_entry_id)

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Start with the introduction (the input here is the repair's, not a form's)."""
        return await self.async_step_confirm()

    async def async_step_confirm(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Say what the step is for; then open its form."""
        if user_input is None:
            return self.async_show_form(step_id="confirm")
        return await self.async_step_form()

    async def async_step_form(self) -> FlowResult:
        """Open the step's form."""
        raise NotImplementedError

    def _finish(self) -> FlowResult:
        """End the repair (which withdraws its issue); then offer again what is still
        open (the step may have been left undone: an empty URL turns a service off)."""
        self.hass.loop.call_soon(async_update_next_steps, self.hass, self._hub_entry())
        return cast("FlowResult", FlowHandler.async_create_entry(cast("Any", self), data={}))


class OptionsStepFix(HubFix):
    """Run the options step ``section`` (a mixin's ``async_step_<section>``)."""

    section: str

    @property
    def config_entry(self) -> ConfigEntry:
        """Return the hub's entry (what an options section reads)."""
        return self._hub_entry()

    def save(self, changes: Mapping[str, Any]) -> ConfigFlowResult:
        """Store the options like the options flow would, then end the repair."""
        entry = self._hub_entry()
        self.hass.config_entries.async_update_entry(entry, options={**entry.options, **changes})
        return self._finish()  # type: ignore[return-value]

    async def async_step_form(self) -> FlowResult:
        """Open the options step."""
        step = getattr(self, f"async_step_{self.section}")
        result: FlowResult = await step()
        return result


class SubentryStepFix(HubFix):
    """Run a subentry flow's ``user`` step; its ``async_create_entry`` adds the subentry."""

    subentry_type: str
    subentry_step = "user"

    def _get_entry(self) -> ConfigEntry:
        return self._hub_entry()

    async def async_step_form(self) -> FlowResult:
        """Open the subentry's form."""
        return cast("FlowResult", await getattr(self, f"async_step_{self.subentry_step}")())

    def async_create_entry(
        self, *, title: str | None = None, data: Mapping[str, Any], **_: Any
    ) -> FlowResult:
        """Add the subentry, then end the repair."""
        self.hass.config_entries.async_add_subentry(
            self._hub_entry(),
            ConfigSubentry(
                data=MappingProxyType(dict(data)),
                subentry_type=self.subentry_type,
                title=title or "",
                unique_id=None,
            ),
        )
        return self._finish()


def fix_flow_class(base: type[HubFix], step: type[Any], **attributes: str) -> type[HubFix]:
    """Return the fix flow running ``step``'s class (an options section or a subentry
    flow) inside the repair ``base`` makes of it."""
    return type(f"{step.__name__}Fix", (base, step), attributes)


def next_step_fix_flow(flows: Mapping[str, type[HubFix]], data: Mapping[str, Any]) -> RepairsFlow:
    """Return the fix flow of a next step's repair issue."""
    return flows[str(data["step"])](str(data["entry_id"]))
