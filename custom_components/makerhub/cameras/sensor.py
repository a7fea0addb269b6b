"""A camera's status, storage and oldest recording sensors, and the recorder disk's used
and free space and oldest recording on the hub's device."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfInformation
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..const import HUB_DEVICE_ID
from ..core.recorder_client import Camera, CameraStatus, Storage
from ..devices import hub_device_info
from ..entity import MakerhubEntity
from ..runtime import MakerhubConfigEntry
from .entity import CameraEntity, camera_platform
from .manager import HubCameras


def _time(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


class CameraStatusSensor(CameraEntity, SensorEntity):
    """The camera's status: recording, idle, reconnecting or error (lost for long)."""

    _attr_translation_key = "camera_status"
    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = [str(status) for status in CameraStatus]

    def __init__(self, cameras: HubCameras, camera: Camera) -> None:
        """Attach to the camera's device."""
        super().__init__(cameras, camera, "status")

    @property
    def native_value(self) -> str | None:
        """Return the status."""
        camera = self.camera
        return None if camera is None else str(camera.status)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return reconnects, the open gap's start, whether the space is active, the
        time-lapse project and the last error (credentials removed by the service)."""
        camera = self.camera
        if camera is None:
            return {}
        return {
            "reconnects": camera.reconnects,
            "lost_since": _time(camera.lost_since),
            "active": camera.active,
            "project": camera.project,
            "last_error": camera.last_error,
        }


class CameraUsedSensor(CameraEntity, SensorEntity):
    """What the camera's recordings and time-lapses take on the disk."""

    _attr_translation_key = "camera_used"
    _attr_device_class = SensorDeviceClass.DATA_SIZE
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_native_unit_of_measurement = UnitOfInformation.BYTES
    _attr_suggested_unit_of_measurement = UnitOfInformation.GIBIBYTES
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, cameras: HubCameras, camera: Camera) -> None:
        """Attach to the camera's device."""
        super().__init__(cameras, camera, "used")

    @property
    def native_value(self) -> int | None:
        """Return the bytes used."""
        camera = self.camera
        return None if camera is None else camera.used_bytes


class CameraOldestSensor(CameraEntity, SensorEntity):
    """The start of the camera's oldest kept recording."""

    _attr_translation_key = "camera_oldest_recording"
    _attr_device_class = SensorDeviceClass.TIMESTAMP
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, cameras: HubCameras, camera: Camera) -> None:
        """Attach to the camera's device."""
        super().__init__(cameras, camera, "oldest-recording")

    @property
    def native_value(self) -> datetime | None:
        """Return when the oldest recording starts."""
        camera = self.camera
        return None if camera is None else _time(camera.oldest_recording)


class RecorderStorageSensor(MakerhubEntity, SensorEntity):
    """A figure of the recorder's disk, on the hub's device."""

    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, cameras: HubCameras, key: str) -> None:
        """Attach to the hub's device."""
        super().__init__(f"{HUB_DEVICE_ID}-recorder-{key}", hub_device_info())
        self.cameras = cameras
        self._attr_translation_key = f"recorder_{key.replace('-', '_')}"

    @property
    def storage(self) -> Storage | None:
        """Return the disk as last polled."""
        return self.cameras.storage

    @property
    def available(self) -> bool:
        """Return whether the service answers."""
        return self.cameras.available and self.storage is not None

    async def async_added_to_hass(self) -> None:
        """Follow the cameras' poll."""
        await super().async_added_to_hass()
        self.async_on_remove(self.cameras.coordinator.async_add_listener(self.async_write_ha_state))


class RecorderBytesSensor(RecorderStorageSensor):
    """The recordings' used, or the disk's free, bytes."""

    _attr_device_class = SensorDeviceClass.DATA_SIZE
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_native_unit_of_measurement = UnitOfInformation.BYTES
    _attr_suggested_unit_of_measurement = UnitOfInformation.GIBIBYTES

    @property
    def native_value(self) -> int | None:
        """Return the bytes."""
        storage = self.storage
        if storage is None:
            return None
        return storage.used_bytes if self._key == "used" else storage.free_bytes

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The free space's floor and the early deletions, on the free-space sensor."""
        storage = self.storage
        if storage is None or self._key != "free":
            return None
        return {
            "floor_bytes": storage.free_floor_bytes,
            "floor_reached": storage.floor_reached,
            "early_deletions": storage.early_deletions,
        }

    def __init__(self, cameras: HubCameras, key: str) -> None:
        """Either ``used`` or ``free``."""
        super().__init__(cameras, key)
        self._key = key


class RecorderOldestSensor(RecorderStorageSensor):
    """The start of the oldest kept recording of every camera."""

    _attr_device_class = SensorDeviceClass.TIMESTAMP

    @property
    def native_value(self) -> datetime | None:
        """Return when the oldest recording starts."""
        storage = self.storage
        return None if storage is None else _time(storage.oldest_recording)


_camera_sensors = camera_platform(
    lambda cameras, camera: [
        CameraStatusSensor(cameras, camera),
        CameraUsedSensor(cameras, camera),
        CameraOldestSensor(cameras, camera),
    ]
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The recorder's disk (while a service is set up) and every camera's sensors."""
    cameras = entry.runtime_data.cameras
    if cameras.configured:
        async_add_entities(
            [
                RecorderBytesSensor(cameras, "used"),
                RecorderBytesSensor(cameras, "free"),
                RecorderOldestSensor(cameras, "oldest-recording"),
            ]
        )
    await _camera_sensors(hass, entry, async_add_entities)
