"""Health sensors: how many items are healthy (the failing ones as attributes), and when
each service came up and last failed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorStateClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from ..devices import hub_device_info
from ..entity import MakerhubEntity
from ..runtime import MakerhubConfigEntry
from .entity import HealthItemEntity, hub_unique_id
from .manager import HealthItem, HubHealth


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the summary, and each service's up-since and last-failure sensors."""
    health = entry.runtime_data.health
    async_add_entities([HealthSummarySensor(health)])

    @callback
    def add(item: HealthItem) -> None:
        if item.on_hub:
            async_add_entities(
                [
                    ServiceTimeSensor(health, item, "up_since"),
                    ServiceTimeSensor(health, item, "last_failure"),
                ]
            )

    health.add_entities_per_item(add)


class HealthSummarySensor(MakerhubEntity, SensorEntity):
    """How many expected items are healthy; the total and the failing ones as attributes."""

    _attr_translation_key = "health_summary"
    _attr_state_class = SensorStateClass.MEASUREMENT

    def __init__(self, health: HubHealth) -> None:
        """Summarise ``health``."""
        super().__init__(hub_unique_id("summary"), hub_device_info())
        self.health = health

    async def async_added_to_hass(self) -> None:
        """Follow every item."""
        self.async_on_remove(self.health.add_summary_listener(self.async_write_ha_state))

    @property
    def native_value(self) -> int:
        """Return how many items are healthy."""
        return self.health.monitor.summary().healthy

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the total and the failing items (root causes, then those down because
        of them)."""
        summary = self.health.monitor.summary()
        names = {item_id: item.spec.name for item_id, item in self.health.items.items()}
        return {
            "total": summary.total,
            "summary": f"{summary.healthy} of {summary.total} healthy",
            "root_causes": [names.get(i, i) for i in summary.root_causes],
            "down_because": [names.get(i, i) for i in summary.down_because],
            "failing": [*summary.root_causes, *summary.down_because],
        }


class ServiceTimeSensor(HealthItemEntity, SensorEntity):
    """When a service came up (unknown while it is down), or when it last failed."""

    _attr_device_class = SensorDeviceClass.TIMESTAMP
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, health: HubHealth, item: HealthItem, key: str) -> None:
        """Show ``up_since`` or ``last_failure`` of ``item``."""
        super().__init__(health, item, key)
        self.key = key
        self._attr_translation_key = f"health_{key}"

    @property
    def native_value(self) -> datetime | None:
        """Return the time, None when there is none."""
        health = self.item_health
        if health is None:
            return None
        value = health.up_since if self.key == "up_since" else health.last_failure
        return None if value is None else dt_util.utc_from_timestamp(value)
