"""Telemetry binary sensor: whether the database is connected."""

from __future__ import annotations

from homeassistant.components.binary_sensor import BinarySensorDeviceClass
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..core.telemetry import WriterCounters
from ..entity import DescribedBinarySensor, MakerhubBinarySensorEntityDescription
from ..runtime import MakerhubConfigEntry
from .entity import MakerhubTelemetryEntity

TELEMETRY_CONNECTED = MakerhubBinarySensorEntityDescription[WriterCounters](
    key="connected",
    translation_key="telemetry_connected",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    value_fn=lambda counters: counters.connected,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Say whether the telemetry database is connected (when one is configured)."""
    if (telemetry := entry.runtime_data.telemetry) is not None:
        async_add_entities([TelemetryBinarySensor(telemetry, TELEMETRY_CONNECTED)])


class TelemetryBinarySensor(MakerhubTelemetryEntity, DescribedBinarySensor[WriterCounters]):
    """A yes/no of the telemetry writer, e.g. whether it holds a database connection."""

    entity_description: MakerhubBinarySensorEntityDescription[WriterCounters]
