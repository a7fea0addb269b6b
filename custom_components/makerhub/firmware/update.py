"""Update entities: the firmware of each unit made from a repository."""

from __future__ import annotations

from functools import partial
from typing import Any

from homeassistant.components.update import (
    UpdateDeviceClass,
    UpdateEntity,
    UpdateEntityFeature,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..core.unit import STATE, UnitRuntime
from ..runtime import MakerhubConfigEntry
from ..units.entity import MakerhubUnitEntity
from ..units.hub import MakerhubHub
from .manager import DATA_REPO_ID, HubFirmware, UpdateStatus, firmware_failed, firmware_units

MAX_SUMMARY = 255


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MakerhubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Give every unit made from a repository its firmware update entity."""
    firmware = entry.runtime_data.firmware
    entry.runtime_data.hub.register_entity_builder(
        async_add_entities, partial(build_updates, firmware)
    )


def build_updates(
    firmware: HubFirmware, hub: MakerhubHub, unit: UnitRuntime
) -> list[MakerhubUnitEntity]:
    """Return a unit's update entity (units made from repositories only)."""
    if unit.uid not in firmware_units(hub.entry):
        return []
    return [FirmwareUpdate(hub, unit, firmware)]


class FirmwareUpdate(MakerhubUnitEntity, UpdateEntity):
    """The unit's firmware: installed (what it reports), latest (its tracked ref)."""

    _attr_device_class = UpdateDeviceClass.FIRMWARE
    _attr_supported_features = (
        UpdateEntityFeature.INSTALL
        | UpdateEntityFeature.SPECIFIC_VERSION
        | UpdateEntityFeature.PROGRESS
        | UpdateEntityFeature.RELEASE_NOTES
    )
    _attr_translation_key = "firmware"

    def __init__(self, hub: MakerhubHub, unit: UnitRuntime, firmware: HubFirmware) -> None:
        """Key the entity as the unit's firmware."""
        super().__init__(hub, unit, ("sys", "firmware"))
        self.firmware = firmware

    @property
    def available(self) -> bool:
        """Return True: what is installed and what is new stay known while it sleeps."""
        return True

    @property
    def installed_version(self) -> str | None:
        """Return the version the unit reports."""
        state = self.unit.state
        return None if state is None else state.version

    @property
    def latest_version(self) -> str | None:
        """Return the version at the head of the tracked ref."""
        latest = self.firmware.latest(self.unit.uid)
        return self.installed_version if latest is None else latest[1]

    @property
    def in_progress(self) -> bool:
        """Return whether an update is running."""
        job = self.firmware.jobs.get(self.unit.uid)
        return job is not None and not job.done.is_set()

    @property
    def release_summary(self) -> str | None:
        """Return the subject of the newest commit of the tracked ref."""
        notes = self._notes()
        return None if notes is None else notes[:MAX_SUMMARY]

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return how the last update went."""
        job = self.firmware.jobs.get(self.unit.uid)
        if job is None:
            return {}
        return {"update_status": job.status.value, "update_error": job.error}

    async def async_release_notes(self) -> str | None:
        """Return the commit messages of the latest version."""
        return self._notes()

    def _notes(self) -> str | None:
        latest = self.firmware.latest(self.unit.uid)
        subentry = firmware_units(self.hub.entry).get(self.unit.uid)
        if latest is None or subentry is None:
            return None
        status = self.firmware.status(subentry.data[DATA_REPO_ID])
        if status is None or status.refs is None:
            return None
        info = status.refs.commit_info(latest[0])
        return None if info is None else info.message.strip()

    async def async_install(self, version: str | None, backup: bool, **kwargs: Any) -> None:
        """Install the latest (or the given) version and wait for the unit's answer."""
        job = await self.firmware.async_install(self.unit.uid, version)
        if job.status is not UpdateStatus.SUCCESS:
            raise firmware_failed(job.error or "failed")

    async def async_added_to_hass(self) -> None:
        """Follow repository polls and jobs."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.firmware.add_unit_listener(self.unit.uid, self.async_write_ha_state)
        )
        self.async_on_remove(self.unit.add_listener(STATE, self.async_write_ha_state))
        self.async_on_remove(
            self.firmware.coordinator.async_add_listener(self.async_write_ha_state)
        )
