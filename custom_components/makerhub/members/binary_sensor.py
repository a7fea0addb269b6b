"""Members' binary sensors: whether each person signed the agreement in force."""

from __future__ import annotations

from typing import Any

from homeassistant.components.binary_sensor import BinarySensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..const import HUB_DEVICE_ID
from ..data import makerhub_data
from ..devices import hub_device_info
from ..entity import MakerhubEntity
from ..presence.manager import person_name
from ..runtime import MakerhubConfigEntry
from .agreement import MemberAgreements


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Give every person, now and as people appear, their agreement sensor."""
    agreements = makerhub_data(hass).agreements
    entry.runtime_data.presence.add_entities_per_person(
        entry, async_add_entities, lambda person: AgreementSignedSensor(agreements, person)
    )


class AgreementSignedSensor(MakerhubEntity, BinarySensorEntity):
    """On when the person signed the agreement in force; off before, and after a
    material change of its text until they sign again."""

    _attr_translation_key = "agreement_signed"

    def __init__(self, agreements: MemberAgreements, person: str) -> None:
        """Name the sensor after the person."""
        self.agreements = agreements
        self.person = person
        self._attr_translation_placeholders = {"person": person_name(agreements.hass, person)}
        super().__init__(f"{HUB_DEVICE_ID}-agreement-{person}", hub_device_info())

    @property
    def is_on(self) -> bool:
        """Return whether the person signed the text in force."""
        return self.agreements.status(self.person).signed

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the person, when they signed, and which version."""
        status = self.agreements.status(self.person)
        return {
            "person": self.person,
            "signed_at": None if status.signed_at is None else status.signed_at.isoformat(),
            "signed_version": status.signed_version,
            "version": status.version,
        }

    async def async_added_to_hass(self) -> None:
        """Follow signatures."""
        self.async_on_remove(self.agreements.add_listener(self.async_write_ha_state))
