"""Firmware sensors: each repository's last sync and error, and the rollout in progress."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
)
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import (
    EntityCategory,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from ..const import (
    HUB_DEVICE_ID,
)
from ..devices import hub_device_info
from ..entity import MakerhubEntity
from ..runtime import MakerhubConfigEntry
from .entity import RepositoryEntity, repository_entities
from .manager import HubFirmware


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Each repository's last sync and error; the rollout in progress."""
    firmware = entry.runtime_data.firmware
    repository_entities(
        entry,
        firmware,
        lambda firmware, subentry: [
            RepositoryLastSyncSensor(firmware, subentry),
            RepositoryErrorSensor(firmware, subentry),
        ],
        async_add_entities,
    )
    async_add_entities([RolloutSensor(firmware)])


class RepositoryLastSyncSensor(RepositoryEntity, SensorEntity):
    """When the repository was last synced successfully."""

    _attr_translation_key = "repository_last_sync"
    _attr_device_class = SensorDeviceClass.TIMESTAMP

    def __init__(self, firmware: HubFirmware, subentry: ConfigSubentry) -> None:
        """Attach to the repository's device."""
        super().__init__(firmware, subentry, "last-sync")

    @property
    def native_value(self) -> datetime | None:
        """Return the last successful sync."""
        status = self.repo_status
        if status is None or status.repo.last_sync is None:
            return None
        return dt_util.utc_from_timestamp(status.repo.last_sync)


class RepositoryErrorSensor(RepositoryEntity, SensorEntity):
    """Why the repository's last sync failed (empty when it worked)."""

    _attr_translation_key = "repository_error"
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, firmware: HubFirmware, subentry: ConfigSubentry) -> None:
        """Attach to the repository's device."""
        super().__init__(firmware, subentry, "error")

    @property
    def native_value(self) -> str | None:
        """Return the last error, cut to a state's length."""
        status = self.repo_status
        if status is None or status.repo.last_error is None:
            return "ok"
        return status.repo.last_error[:255]


class RolloutSensor(MakerhubEntity, SensorEntity):
    """The fleet rollout: idle, waiting, running, finished or stopped, with progress."""

    _attr_translation_key = "rollout"
    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = ["idle", "waiting", "running", "finished", "stopped"]

    def __init__(self, firmware: HubFirmware) -> None:
        """Attach to the hub's device."""
        super().__init__(f"{HUB_DEVICE_ID}-rollout", hub_device_info())
        self.firmware = firmware

    @property
    def native_value(self) -> str:
        """Return where the last rollout is."""
        rollout = self.firmware.rollout
        return "idle" if rollout is None else rollout.state.value

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the last rollout's progress."""
        rollout = self.firmware.rollout
        return {} if rollout is None else rollout.summary()

    async def async_added_to_hass(self) -> None:
        """Follow rollouts."""
        self.async_on_remove(self.firmware.add_listener(self.async_write_ha_state))
