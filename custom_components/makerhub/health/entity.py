"""The health entities' base: one item's entity, on the item's device (a unit's, or the
hub's for a service), written when the item's health changes."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo

from ..core.health import ItemHealth
from ..devices import hub_device_info
from ..entity import MakerhubEntity
from .manager import UNIQUE_ID_PREFIX, HealthItem, HubHealth


class HealthItemEntity(MakerhubEntity):
    """An entity showing one expected item's health."""

    def __init__(self, health: HubHealth, item: HealthItem, key: str) -> None:
        """Show ``item``; ``key`` names what of it (``problem``, ``up_since``, …)."""
        self.health = health
        self.item = item
        device: DeviceInfo = item.device_info or hub_device_info()
        super().__init__(f"{UNIQUE_ID_PREFIX}{key}-{item.id}", device)
        if item.on_hub:
            self._attr_translation_placeholders = {"service": item.spec.name}

    @property
    def item_health(self) -> ItemHealth | None:
        """Return the item's health (None once it is no longer expected)."""
        return self.health.health(self.item.id)

    @property
    def available(self) -> bool:
        """Return whether the item is still expected."""
        return self.item_health is not None

    async def async_added_to_hass(self) -> None:
        """Follow the item's health."""
        self.async_on_remove(self.health.add_item_listener(self.item.id, self.async_write_ha_state))


def hub_unique_id(key: str) -> str:
    """Return the unique id of a hub-wide health entity (the summary, the test button)."""
    return f"{UNIQUE_ID_PREFIX}{key}"
