"""Device trackers: one per person, home while the presence engine places them anywhere."""

from __future__ import annotations

from typing import Any

from homeassistant.components.device_tracker.config_entry import ScannerEntity
from homeassistant.components.device_tracker.const import SourceType
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..runtime import MakerhubConfigEntry
from .entity import MakerhubPresenceEntity
from .manager import HubPresence, person_name


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Give every person, now and as people appear, a tracker."""
    presence = entry.runtime_data.presence
    presence.add_entities_per_person(
        entry, async_add_entities, lambda person: PersonTracker(presence, person)
    )


class PersonTracker(MakerhubPresenceEntity, ScannerEntity):
    """Whether a person is at any station of the space (Bluetooth LE presence); on no
    device (device trackers make none)."""

    _attr_source_type = SourceType.BLUETOOTH_LE
    _attr_translation_key = "person_tracker"

    def __init__(self, presence: HubPresence, person: str) -> None:
        """Name the tracker after the person."""
        super().__init__(presence, f"tracker-{person}", None)
        self.person = person
        self._attr_translation_placeholders = {"person": person_name(presence.hass, person)}

    @property
    def unique_id(self) -> str | None:
        """Return the tracker's id (ScannerEntity's would be a MAC address)."""
        return self._attr_unique_id

    @property
    def is_connected(self) -> bool:
        """Return whether the person is at a station."""
        current = self.presence.engine.person(self.person)
        return current is not None and not current.is_away

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the station."""
        current = self.presence.engine.person(self.person)
        station = None if current is None else current.station
        return {"person": self.person, "station": self.presence.station_name(station)}
