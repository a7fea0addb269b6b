"""The telemetry entities' base: a diagnostic of the writer, on the hub's device."""

from __future__ import annotations

from homeassistant.const import EntityCategory
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity, DataUpdateCoordinator

from ..const import HUB_DEVICE_ID
from ..core.telemetry import WriterCounters
from ..devices import hub_device_info
from ..entity import MakerhubEntity
from .manager import HubTelemetry


class MakerhubTelemetryEntity(
    CoordinatorEntity[DataUpdateCoordinator[WriterCounters]], MakerhubEntity
):
    """A diagnostic entity of the telemetry writer, on the hub's device."""

    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, telemetry: HubTelemetry, description: EntityDescription) -> None:
        """Describe one of the writer's counters."""
        super().__init__(telemetry.coordinator)
        self.entity_description = description
        MakerhubEntity.__init__(
            self, f"{HUB_DEVICE_ID}-telemetry-{description.key}", hub_device_info()
        )

    @property
    def described(self) -> WriterCounters:
        """Return the writer's latest counters (what descriptions read)."""
        return self.coordinator.data
