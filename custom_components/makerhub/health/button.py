"""Health button: send a test alert (a problem event flagged ``test``)."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..devices import hub_device_info
from ..entity import MakerhubEntity
from ..runtime import MakerhubConfigEntry
from .entity import hub_unique_id
from .manager import HubHealth


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the test alert button on the hub's device."""
    async_add_entities([HealthTestAlertButton(entry.runtime_data.health)])


class HealthTestAlertButton(MakerhubEntity, ButtonEntity):
    """Fire ``makerhub_health_problem`` with ``test: true``, so an alert gets sent."""

    _attr_translation_key = "health_test_alert"
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, health: HubHealth) -> None:
        """Belong to the hub's device."""
        super().__init__(hub_unique_id("test_alert"), hub_device_info())
        self.health = health

    async def async_press(self) -> None:
        """Fire the test event."""
        self.health.test_alert()
