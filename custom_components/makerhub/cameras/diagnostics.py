"""Cameras' part of the diagnostics: the service's address, whether its last poll worked,
the disk, and each camera's status (never a token, and never a stream address: the
service strips credentials from it, but an address can still say too much)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ..core.recorder_client import Camera
from .manager import HubCameras


def _camera(camera: Camera) -> dict[str, Any]:
    return {
        "name": camera.name,
        "kind": camera.kind,
        "status": str(camera.status),
        "has_credentials": camera.has_credentials,
        "serial": camera.serial,
        "recording": camera.recording,
        "active": camera.active,
        "project": camera.project,
        "reconnects": camera.reconnects,
        "lost_since": camera.lost_since,
        "last_error": camera.last_error,
        "used_bytes": camera.used_bytes,
        "oldest_recording": camera.oldest_recording,
    }


def cameras_diagnostics(cameras: HubCameras) -> dict[str, Any] | None:
    """Return the recorder's picture (None: no service is set up)."""
    if cameras.client is None:
        return None
    coordinator = cameras.coordinator
    error = coordinator.last_exception
    data = coordinator.data
    return {
        "url": cameras.client.base_url,
        "last_poll_succeeded": coordinator.last_update_success,
        "last_error": None if error is None else str(error),
        "storage": None if data is None else asdict(data.storage),
        "cameras": {}
        if data is None
        else {camera_id: _camera(camera) for camera_id, camera in sorted(data.cameras.items())},
    }


def camera_device_diagnostics(cameras: HubCameras, camera_id: str) -> dict[str, Any]:
    """Return a camera as last polled."""
    camera = cameras.camera(camera_id)
    return {"camera": None if camera is None else _camera(camera)}
