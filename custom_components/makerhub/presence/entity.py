"""The presence entities' bases: refreshed whenever anyone's station changes; a station's
on the station's device; described ones (their description's functions read the presence
engine, or the station's entity) for either."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import EntityDescription

from ..const import HUB_DEVICE_ID
from ..core.presence import Station
from ..devices import hub_device_info, station_device_info
from ..entity import MakerhubEntity
from .manager import SIGNAL_PRESENCE, HubPresence


class MakerhubPresenceEntity(MakerhubEntity):
    """An entity of the presence engine; refreshed whenever anyone's station changes."""

    def __init__(self, presence: HubPresence, key: str, device_info: DeviceInfo | None) -> None:
        """Key the entity within the hub's presence entities."""
        self.presence = presence
        super().__init__(f"{HUB_DEVICE_ID}-presence-{key}", device_info)

    async def async_added_to_hass(self) -> None:
        """Follow the engine's changes."""
        self.async_on_remove(
            async_dispatcher_connect(self.hass, SIGNAL_PRESENCE, self.async_write_ha_state)
        )


class MakerhubStationEntity(MakerhubPresenceEntity):
    """An entity of one station, on the station's device."""

    def __init__(self, presence: HubPresence, station: Station, key: str) -> None:
        """Attach to the station's device; ``key`` is unique within the station."""
        super().__init__(presence, f"station-{station.id}-{key}", station_device_info(station))
        self.station = station

    @property
    def occupants(self) -> frozenset[str]:
        """Return the people at the station."""
        return self.presence.engine.occupants(self.station.id)


class SpaceDescribedEntity(MakerhubPresenceEntity):
    """A described entity of the whole space, on the hub's device."""

    def __init__(self, presence: HubPresence, description: EntityDescription) -> None:
        """Key the entity by its description."""
        super().__init__(presence, description.key, hub_device_info())
        self.entity_description = description

    @property
    def described(self) -> HubPresence:
        """Return the presence engine (what the description reads)."""
        return self.presence


class StationDescribedEntity(MakerhubStationEntity):
    """A described entity of one station, on the station's device."""

    def __init__(
        self, presence: HubPresence, station: Station, description: EntityDescription
    ) -> None:
        """Key the entity by its description within the station."""
        super().__init__(presence, station, description.key)
        self.entity_description = description

    @property
    def described(self) -> MakerhubStationEntity:
        """Return the station's entity, with its occupants (what the description reads)."""
        return self
