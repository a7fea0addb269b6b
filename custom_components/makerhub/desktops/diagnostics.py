"""Desktops' part of the diagnostics: the service's address, whether its last poll
worked, and each desktop's state and connections (never a token or a repository URL,
which could carry a user name)."""

from __future__ import annotations

from typing import Any

from .ingress import ingress_addon, is_supervised
from .manager import HubDesktops


def desktops_diagnostics(desktops: HubDesktops) -> dict[str, Any] | None:
    """Return the desktops service's picture (None: no service is set up)."""
    if desktops.client is None:
        return None
    coordinator = desktops.coordinator
    error = coordinator.last_exception
    return {
        "url": desktops.client.base_url,
        "last_poll_succeeded": coordinator.last_update_success,
        "last_error": None if error is None else str(error),
        # The add-on the panel reaches through ingress (None: the service's own address).
        "ingress_addon": ingress_addon(desktops.entry.options, is_supervised(desktops.hass)),
        "desktops": {
            project: {
                "state": str(desktop.state),
                "viewers": desktop.viewers,
                "controllers": desktop.controllers,
                "error": desktop.error,
            }
            for project, desktop in sorted((coordinator.data or {}).items())
        },
    }


def project_desktop_diagnostics(desktops: HubDesktops, project_id: str) -> dict[str, Any] | None:
    """Return a project's desktop as last polled (None: no service is set up)."""
    if desktops.client is None:
        return None
    desktop = desktops.desktop(project_id)
    return {
        "state": str(desktops.state(project_id)),
        "known_to_service": desktop is not None,
        "viewers": 0 if desktop is None else desktop.viewers,
        "controllers": 0 if desktop is None else desktop.controllers,
        "error": None if desktop is None else desktop.error,
    }
