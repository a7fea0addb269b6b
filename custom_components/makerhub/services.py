"""Service actions: each feature's, registered once whatever the entries."""

from __future__ import annotations

from homeassistant.core import HomeAssistant

from .cameras import services as cameras
from .desktops import services as desktops
from .displays import services as displays
from .firmware import services as firmware
from .health import services as health
from .links import services as links
from .members import services as members
from .projects import services as projects
from .telemetry import services as telemetry


def async_setup_services(hass: HomeAssistant) -> None:
    """Register every feature's service actions."""
    for feature in (
        telemetry,
        firmware,
        links,
        projects,
        desktops,
        members,
        cameras,
        displays,
        health,
    ):
        feature.async_setup_services(hass)
