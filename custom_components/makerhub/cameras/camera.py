"""A camera entity per recorder camera: the still image from the service's snapshot, the
live stream through Home Assistant's stream component from the camera itself.

The recorder never answers a camera's credentials, so the live stream is offered for an
RTSP camera without credentials only (a camera with credentials shows its snapshots).
"""

from __future__ import annotations

from homeassistant.components.camera import Camera as HaCamera, CameraEntityFeature

from ..core.recorder_client import Camera, CameraStatus
from .entity import CameraEntity, camera_platform
from .manager import HubCameras

STREAM_KINDS = frozenset({"rtsp"})


class RecorderCamera(CameraEntity, HaCamera):
    """A camera recorded by the recorder service."""

    _attr_name = None

    def __init__(self, cameras: HubCameras, camera: Camera) -> None:
        """Attach to the camera's device."""
        CameraEntity.__init__(self, cameras, camera, "camera")
        HaCamera.__init__(self)
        if camera.kind in STREAM_KINDS and not camera.has_credentials:
            self._attr_supported_features = CameraEntityFeature.STREAM

    @property
    def is_recording(self) -> bool:
        """Return whether a recording runs."""
        camera = self.camera
        return camera is not None and camera.recording

    @property
    def is_streaming(self) -> bool:
        """Return whether pictures arrive."""
        camera = self.camera
        return camera is not None and camera.status in (CameraStatus.RECORDING, CameraStatus.IDLE)

    async def stream_source(self) -> str | None:
        """Return the camera's own RTSP address (None: no stream without credentials)."""
        camera = self.camera
        if camera is None or camera.kind not in STREAM_KINDS or camera.has_credentials:
            return None
        return camera.source

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """Return the latest picture from the service."""
        return await self.cameras.async_snapshot(self.camera_id)


async_setup_entry = camera_platform(lambda cameras, camera: [RecorderCamera(cameras, camera)])
