"""Telemetry binary sensor: whether the database is connected."""

from __future__ import annotations

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..runtime import MakerhubConfigEntry
from .entity import MakerhubTelemetryEntity

TELEMETRY_CONNECTED = BinarySensorEntityDescription(
    key="connected",
    translation_key="telemetry_connected",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Say whether the telemetry database is connected (when one is configured)."""
    if (telemetry := entry.runtime_data.telemetry) is not None:
        async_add_entities([TelemetryConnectedSensor(telemetry, TELEMETRY_CONNECTED)])


class TelemetryConnectedSensor(MakerhubTelemetryEntity, BinarySensorEntity):
    """Whether the telemetry writer holds a connection to its database."""

    @property
    def is_on(self) -> bool:
        """Return whether the writer is connected."""
        return self.coordinator.data.connected
