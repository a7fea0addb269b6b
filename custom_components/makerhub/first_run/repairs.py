"""The next steps' fix flows: the existing options step (or the station's subentry step)
run inside the repair, its result saved as that step saves it.

A section of the options flow is a mixin whose step reads ``config_entry`` and finishes
with ``save``; here ``config_entry`` is the hub's entry and ``save`` updates its options
(which reloads the hub) before the repair ends. The station's step ends with
``async_create_entry(title, data)``; here that adds the station subentry.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, cast

from homeassistant.components.repairs import RepairsFlow
from homeassistant.config_entries import ConfigEntry, ConfigFlowResult, ConfigSubentry
from homeassistant.data_entry_flow import FlowHandler, FlowResult

from ..cameras.options import CamerasOptions
from ..const import SUBENTRY_STATION
from ..desktops.options import DesktopsOptions
from ..firmware.options import FirmwareOptions
from ..presence.flow import StationSubentryFlow
from ..telemetry.options import TelemetryOptions
from .steps import (
    STEP_DESKTOPS,
    STEP_FIRMWARE,
    STEP_RECORDER,
    STEP_STATION,
    STEP_TELEMETRY,
    async_update_next_steps,
)


class _HubFix(RepairsFlow):
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


class _OptionsStepFix(_HubFix):
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


class FirmwareFix(_OptionsStepFix, FirmwareOptions):
    """Connect the firmware service."""

    section = "firmware"


class TelemetryFix(_OptionsStepFix, TelemetryOptions):
    """Turn telemetry on."""

    section = "telemetry"


class DesktopsFix(_OptionsStepFix, DesktopsOptions):
    """Connect the desktops service."""

    section = "desktops"


class RecorderFix(_OptionsStepFix, CamerasOptions):
    """Connect the recorder service."""

    section = "cameras"


class StationFix(_HubFix, StationSubentryFlow):
    """Add the first station with the station's own form."""

    def _get_entry(self) -> ConfigEntry:
        return self._hub_entry()

    async def async_step_form(self) -> FlowResult:
        """Open the station's form."""
        return cast("FlowResult", await self.async_step_user())

    def async_create_entry(  # type: ignore[override]
        self, *, title: str | None = None, data: Mapping[str, Any], **_: Any
    ) -> FlowResult:
        """Add the station subentry, then end the repair."""
        self.hass.config_entries.async_add_subentry(
            self._hub_entry(),
            ConfigSubentry(
                data=MappingProxyType(dict(data)),
                subentry_type=SUBENTRY_STATION,
                title=title or "",
                unique_id=None,
            ),
        )
        return self._finish()


FIX_FLOWS: dict[str, type[_HubFix]] = {
    STEP_FIRMWARE: FirmwareFix,
    STEP_TELEMETRY: TelemetryFix,
    STEP_STATION: StationFix,
    STEP_DESKTOPS: DesktopsFix,
    STEP_RECORDER: RecorderFix,
}


def next_step_fix_flow(data: Mapping[str, Any]) -> RepairsFlow:
    """Return the fix flow of a next step's repair issue."""
    return FIX_FLOWS[str(data["step"])](str(data["entry_id"]))
