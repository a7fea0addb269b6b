"""A camera entity per recorder camera: the still image from the service's snapshot, the
live stream through Home Assistant's stream component from the service's restream.

Every RTSP camera streams, with or without credentials: the stream component is given
the service's live address of the camera, signed with the hub's token for that camera
and a limited time (:meth:`RecorderClient.live_url`), never the camera's own address or
credentials (the service keeps them) nor the token. The address expires
:data:`LIVE_URL_WINDOW` to twice that ahead and changes once a window; each poll hands a
running stream the current one, so a stream that reconnects uses a valid address. The
address never appears in the entity's state, its attributes or the diagnostics.
"""

from __future__ import annotations

import math
from typing import Final

from homeassistant.components.camera import Camera as HaCamera, CameraEntityFeature
from homeassistant.core import callback
from homeassistant.util import dt as dt_util

from ..core.recorder_client import Camera, CameraStatus
from .entity import CameraEntity, camera_platform
from .manager import HubCameras

STREAM_KINDS = frozenset({"rtsp"})
LIVE_URL_WINDOW: Final = 86400
"""Seconds; a live address is valid for one to two of them."""


def now() -> float:
    """The time a live address is made at (a function: tests move it)."""
    return dt_util.utcnow().timestamp()


def live_expiry(now: float) -> int:
    """When a live address made at ``now`` expires: the end of the next window."""
    return (math.floor(now / LIVE_URL_WINDOW) + 2) * LIVE_URL_WINDOW


class RecorderCamera(CameraEntity, HaCamera):
    """A camera recorded by the recorder service."""

    _attr_name = None

    def __init__(self, cameras: HubCameras, camera: Camera) -> None:
        """Attach to the camera's device."""
        CameraEntity.__init__(self, cameras, camera, "camera")
        HaCamera.__init__(self)
        if camera.kind in STREAM_KINDS:
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
        """Return the service's signed live address of the camera (None: not RTSP)."""
        return self._live_url()

    def _live_url(self) -> str | None:
        camera = self.camera
        client = self.cameras.client
        if camera is None or client is None or camera.kind not in STREAM_KINDS:
            return None
        return client.live_url(camera.id, live_expiry(now()))

    @callback
    def _on_poll(self) -> None:
        """Hand a running stream the current live address (it changes once a window)."""
        source = self._live_url() if self.stream is not None else None
        if self.stream is not None and source is not None and source != self.stream.source:
            self.stream.update_source(source)
        super()._on_poll()

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """Return the latest picture from the service."""
        return await self.cameras.async_snapshot(self.camera_id)


async_setup_entry = camera_platform(lambda cameras, camera: [RecorderCamera(cameras, camera)])
