"""The repository entities' base: one device per repository, fed by the repository poll."""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.helpers.update_coordinator import (
    CoordinatorEntity,
    DataUpdateCoordinator,
)

from ..devices import repo_device_id, repo_device_info
from ..entity import MakerhubEntity
from .manager import DATA_REPO_ID, HubFirmware, RepoStatus, repo_subentries


class RepositoryEntity(
    CoordinatorEntity[DataUpdateCoordinator[dict[str, RepoStatus]]], MakerhubEntity
):
    """An entity of a repository's device, fed by the repository poll."""

    def __init__(self, firmware: HubFirmware, subentry: ConfigSubentry, key: str) -> None:
        """Attach to the repository's device."""
        super().__init__(firmware.coordinator)
        self.firmware = firmware
        self.repo_id: str = subentry.data[DATA_REPO_ID]
        MakerhubEntity.__init__(
            self, f"{repo_device_id(self.repo_id)}-{key}", repo_device_info(subentry, self.repo_id)
        )

    @property
    def repo_status(self) -> RepoStatus | None:
        """Return what the last poll learned of the repository."""
        return self.firmware.status(self.repo_id)

    @property
    def described(self) -> RepoStatus | None:
        """Return the repository's status (what descriptions read)."""
        return self.repo_status

    @property
    def available(self) -> bool:
        """Return whether the firmware service answered about this repository."""
        return super().available and self.repo_status is not None


def repository_entities[T](
    entry: ConfigEntry,
    firmware: HubFirmware,
    build: Callable[[HubFirmware, ConfigSubentry], list[T]],
    add_entities: Callable[..., None],
) -> None:
    """Add a platform's entities for every repository (each with its subentry)."""
    if firmware.client is None:
        return
    for subentry in repo_subentries(entry).values():
        add_entities(build(firmware, subentry), config_subentry_id=subentry.subentry_id)
