"""A project's desktop state sensor, with who is connected as attributes."""

from __future__ import annotations

from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity
from homeassistant.const import Platform

from ..core.desktops_client import DesktopState
from ..projects.store import Projects
from .entity import DesktopEntity, desktop_platform
from .manager import HubDesktops


class DesktopStateSensor(DesktopEntity, SensorEntity):
    """The desktop's state: stopped, starting, running, suspended or error."""

    _attr_translation_key = "desktop_state"
    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = [str(state) for state in DesktopState]

    def __init__(self, desktops: HubDesktops, projects: Projects, project_id: str) -> None:
        """Attach to the project's device."""
        super().__init__(desktops, projects, project_id, "desktop-state")

    @property
    def native_value(self) -> str:
        """Return the state."""
        return str(self.desktop_state)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return how many viewers and controllers are connected, and the last error."""
        desktop = self.desktop
        if desktop is None:
            return {"viewers": 0, "controllers": 0}
        attributes: dict[str, Any] = {
            "viewers": desktop.viewers,
            "controllers": desktop.controllers,
        }
        if desktop.error:
            attributes["error"] = desktop.error
        return attributes


async_setup_entry = desktop_platform(
    Platform.SENSOR,
    lambda desktops, projects, project_id: [DesktopStateSensor(desktops, projects, project_id)],
)
