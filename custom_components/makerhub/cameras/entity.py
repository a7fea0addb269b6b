"""The camera entities' base: on the camera's device, following the cameras' poll."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..core.recorder_client import Camera
from ..devices import camera_device_info
from ..entity import MakerhubEntity
from ..features import PlatformSetup
from ..runtime import MakerhubConfigEntry
from .manager import HubCameras


class CameraEntity(MakerhubEntity):
    """An entity of one recorder camera; unavailable while the service does not answer
    or no longer lists the camera."""

    def __init__(self, cameras: HubCameras, camera: Camera, key: str) -> None:
        """Attach to the camera's device."""
        super().__init__(
            f"camera-{camera.id}-{key}",
            camera_device_info(camera.id, camera.name, camera.kind, camera.serial),
        )
        self.cameras = cameras
        self.camera_id = camera.id

    @property
    def camera(self) -> Camera | None:
        """Return the camera as last polled."""
        return self.cameras.camera(self.camera_id)

    @property
    def available(self) -> bool:
        """Return whether the service answers and lists the camera."""
        return self.cameras.available and self.camera is not None

    async def async_added_to_hass(self) -> None:
        """Follow the cameras' poll."""
        await super().async_added_to_hass()
        self.async_on_remove(self.cameras.coordinator.async_add_listener(self._on_poll))

    @callback
    def _on_poll(self) -> None:
        self.async_write_ha_state()


type CameraEntityBuilder = Callable[[HubCameras, Camera], Iterable[Entity]]


def camera_platform(build: CameraEntityBuilder) -> PlatformSetup:
    """Return a camera platform module's ``async_setup_entry``: every recorder camera,
    now and when the poll first sees it, gets the entities ``build`` makes."""

    async def async_setup_entry(
        hass: HomeAssistant,
        entry: MakerhubConfigEntry,
        async_add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        cameras = entry.runtime_data.cameras
        cameras.add_camera_listener(
            lambda new: async_add_entities(
                [entity for camera in new for entity in build(cameras, camera)]
            )
        )

    return async_setup_entry
