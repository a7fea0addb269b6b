"""A camera's recording switch: on records from the pre-roll on, off stops recording."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity

from ..core.recorder_client import Camera
from .entity import CameraEntity, camera_platform
from .manager import HubCameras


class CameraRecordingSwitch(CameraEntity, SwitchEntity):
    """Whether the camera records (clips run on to their end whatever this says)."""

    _attr_translation_key = "camera_recording"

    def __init__(self, cameras: HubCameras, camera: Camera) -> None:
        """Attach to the camera's device."""
        super().__init__(cameras, camera, "recording")

    @property
    def is_on(self) -> bool:
        """Return whether a recording runs."""
        camera = self.camera
        return camera is not None and camera.recording

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start recording (the recording begins with the pre-roll)."""
        await self.cameras.async_set_recording(self.camera_id, True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop recording."""
        await self.cameras.async_set_recording(self.camera_id, False)


async_setup_entry = camera_platform(
    lambda cameras, camera: [CameraRecordingSwitch(cameras, camera)]
)
