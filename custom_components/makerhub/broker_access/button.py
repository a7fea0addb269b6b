"""Broker-access buttons: rotate a unit's broker password."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..core.unit import UnitRuntime
from ..runtime import MakerhubConfigEntry
from ..units.entity import MakerhubUnitEntity
from ..units.hub import MakerhubHub
from .access import BrokerAccess


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Give every unit, now and as units are adopted, its broker-password rotation."""
    broker_access = entry.runtime_data.broker_access
    entry.runtime_data.hub.register_entity_builder(
        async_add_entities,
        lambda hub, unit: [RotateBrokerPasswordButton(hub, unit, broker_access)],
    )


class RotateBrokerPasswordButton(MakerhubUnitEntity, ButtonEntity):
    """Give the unit a new broker password (it needs its new ``env.json`` to connect)."""

    _attr_entity_category = EntityCategory.CONFIG
    _attr_translation_key = "rotate_broker_password"
    _attr_entity_registry_enabled_default = False

    def __init__(self, hub: MakerhubHub, unit: UnitRuntime, broker_access: BrokerAccess) -> None:
        """Key the button as the unit's password rotation."""
        super().__init__(hub, unit, ("sys", "rotate_password"))
        self.broker_access = broker_access

    @property
    def available(self) -> bool:
        """Return True: a password can be rotated while the unit is offline too."""
        return True

    async def async_press(self) -> None:
        """Rotate the password and tell the broker."""
        await self.broker_access.async_rotate(self.unit.uid)
