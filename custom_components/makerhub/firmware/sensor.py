"""Firmware sensors: each repository's last sync and error, and the rollout in progress."""

from __future__ import annotations

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from ..const import HUB_DEVICE_ID
from ..core.rollout import Rollout
from ..devices import hub_device_info
from ..entity import DescribedSensor, MakerhubEntity, MakerhubSensorEntityDescription
from ..runtime import MakerhubConfigEntry
from .entity import RepositoryEntity, repository_entities
from .manager import HubFirmware, RepoStatus

REPOSITORY_SENSORS: tuple[MakerhubSensorEntityDescription[RepoStatus | None], ...] = (
    MakerhubSensorEntityDescription(
        key="last-sync",
        translation_key="repository_last_sync",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda status: (
            None
            if status is None or status.repo.last_sync is None
            else dt_util.utc_from_timestamp(status.repo.last_sync)
        ),
    ),
    MakerhubSensorEntityDescription(
        key="error",
        translation_key="repository_error",
        entity_category=EntityCategory.DIAGNOSTIC,
        # the last error, cut to a state's length
        value_fn=lambda status: (
            "ok"
            if status is None or status.repo.last_error is None
            else status.repo.last_error[:255]
        ),
    ),
)

ROLLOUT = MakerhubSensorEntityDescription[Rollout | None](
    key="rollout",
    translation_key="rollout",
    device_class=SensorDeviceClass.ENUM,
    options=["idle", "waiting", "running", "finished", "stopped"],
    value_fn=lambda rollout: "idle" if rollout is None else rollout.state.value,
    attributes_fn=lambda rollout: {} if rollout is None else rollout.summary(),
)


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
            RepositorySensor(firmware, subentry, description) for description in REPOSITORY_SENSORS
        ],
        async_add_entities,
    )
    async_add_entities([RolloutSensor(firmware)])


class RepositorySensor(RepositoryEntity, DescribedSensor[RepoStatus | None]):
    """What the last poll learned of a repository: when it last synced, why it failed."""

    def __init__(
        self,
        firmware: HubFirmware,
        subentry: ConfigSubentry,
        description: MakerhubSensorEntityDescription[RepoStatus | None],
    ) -> None:
        """Attach to the repository's device."""
        super().__init__(firmware, subentry, description.key)
        self.entity_description = description


class RolloutSensor(MakerhubEntity, DescribedSensor[Rollout | None]):
    """The fleet rollout: idle, waiting, running, finished or stopped, with progress."""

    entity_description = ROLLOUT

    def __init__(self, firmware: HubFirmware) -> None:
        """Attach to the hub's device."""
        super().__init__(f"{HUB_DEVICE_ID}-rollout", hub_device_info())
        self.firmware = firmware

    @property
    def described(self) -> Rollout | None:
        """Return the last rollout."""
        return self.firmware.rollout

    async def async_added_to_hass(self) -> None:
        """Follow rollouts."""
        self.async_on_remove(self.firmware.add_listener(self.async_write_ha_state))
