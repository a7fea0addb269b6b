"""Health binary sensors: a problem sensor per expected item, on the item's device."""

from __future__ import annotations

from typing import Any

from homeassistant.components.binary_sensor import BinarySensorDeviceClass, BinarySensorEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from ..runtime import MakerhubConfigEntry
from .entity import HealthItemEntity
from .manager import HealthItem, HubHealth


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a problem sensor for every item, now and as items are registered."""
    health = entry.runtime_data.health

    @callback
    def add(item: HealthItem) -> None:
        async_add_entities([HealthProblemSensor(health, item)], config_subentry_id=item.subentry_id)

    health.add_entities_per_item(add)


def _iso(value: float | None) -> str | None:
    return None if value is None else dt_util.utc_from_timestamp(value).isoformat()


class HealthProblemSensor(HealthItemEntity, BinarySensorEntity):
    """On while the item does not work, itself or because of what it depends on."""

    _attr_device_class = BinarySensorDeviceClass.PROBLEM

    def __init__(self, health: HubHealth, item: HealthItem) -> None:
        """Name it for a unit (``Health problem``) or a service (``Broker problem``)."""
        super().__init__(health, item, "problem")
        self._attr_translation_key = "health_service_problem" if item.on_hub else "health_problem"

    @property
    def is_on(self) -> bool | None:
        """Return whether the item has a problem (None while it is no longer expected)."""
        health = self.item_health
        return None if health is None else health.problem

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return why, since when, and what the hub did about it."""
        health = self.item_health
        if health is None:
            return None
        return {
            "item": health.id,
            "kind": health.kind,
            "status": str(health.status),
            "root_cause": health.root_cause,
            "message": health.message,
            "last_seen": _iso(health.last_seen),
            "period": health.period,
            "grace": health.grace,
            "restarts": health.restarts,
            "restart_limit": health.restart_limit,
            "next_restart": _iso(health.next_restart),
            "crash_looping": health.crash_looping,
        }
