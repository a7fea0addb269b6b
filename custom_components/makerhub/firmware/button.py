"""Firmware buttons: sync a repository now."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..core.firmware_client import FirmwareError
from ..runtime import MakerhubConfigEntry
from .entity import RepositoryEntity, repository_entities
from .manager import HubFirmware, firmware_failed


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Give every repository its sync button."""
    repository_entities(
        entry,
        entry.runtime_data.firmware,
        lambda firmware, subentry: [RepositorySyncButton(firmware, subentry)],
        async_add_entities,
    )


class RepositorySyncButton(RepositoryEntity, ButtonEntity):
    """Fetch the repository's branches and tags now."""

    _attr_translation_key = "repository_sync"

    def __init__(self, firmware: HubFirmware, subentry: ConfigSubentry) -> None:
        """Attach to the repository's device."""
        super().__init__(firmware, subentry, "sync")

    @property
    def available(self) -> bool:
        """Return True: a sync may be asked for whatever the last poll said."""
        return True

    async def async_press(self) -> None:
        """Sync; say why when it fails."""
        try:
            repo = await self.firmware.async_sync(self.repo_id)
        except FirmwareError as err:
            raise firmware_failed(err) from err
        if repo.last_error:
            raise firmware_failed(repo.last_error)
