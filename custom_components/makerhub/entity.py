"""The one base of every Makerhub entity: named by its device, never polled, with its
unique id and device given when it is made.

The features' entity bases (units, presence, projects, repositories, telemetry) derive
from it; those fed by a ``DataUpdateCoordinator`` put ``CoordinatorEntity`` first, so that
its availability and listening come before this base's.
"""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity


class MakerhubEntity(Entity):
    """An entity of the hub: its name is its device's plus its own, it is never polled."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, unique_id: str, device_info: DeviceInfo | None) -> None:
        """Identify the entity and attach it to its device (None: no device)."""
        self._attr_unique_id = unique_id
        self._attr_device_info = device_info

