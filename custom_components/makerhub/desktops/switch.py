"""A project's desktop running switch: on starts (or resumes) it, off stops it."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.const import Platform

from ..core.desktops_client import DesktopState
from ..projects.store import Projects
from .entity import DesktopEntity, desktop_platform
from .manager import HubDesktops

ON_STATES = frozenset({DesktopState.STARTING, DesktopState.RUNNING, DesktopState.SUSPENDED})
"""A suspended desktop counts as running: it resumes the moment someone connects."""


class DesktopRunningSwitch(DesktopEntity, SwitchEntity):
    """Whether the project's desktop runs."""

    _attr_translation_key = "desktop_running"

    def __init__(self, desktops: HubDesktops, projects: Projects, project_id: str) -> None:
        """Attach to the project's device."""
        super().__init__(desktops, projects, project_id, "desktop-running")

    @property
    def is_on(self) -> bool:
        """Return whether the desktop is starting, running or suspended."""
        return self.desktop_state in ON_STATES

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start the desktop (the first start clones the project's repository)."""
        await self.desktops.async_start_desktop(self.project_id)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop the desktop (its workspace is kept)."""
        await self.desktops.async_stop_desktop(self.project_id)


async_setup_entry = desktop_platform(
    Platform.SWITCH,
    lambda desktops, projects, project_id: [DesktopRunningSwitch(desktops, projects, project_id)],
)
