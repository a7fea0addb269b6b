"""The hub's devices: which thing each stands for, and whether that thing still exists.

Every device of the hub carries one ``(makerhub, id)`` identifier: ``hub`` for the hub's
own device, a unit's uid (12 hex digits), ``station_<subentry id>``, ``repo-<repository
id>`` or ``project-<project id>``. Device diagnostics and device removal (by the user, and
of stale devices when the hub starts: :func:`async_remove_stale_devices`) ask here what a
device is and whether it is live.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
import logging
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo

from .const import DOMAIN, HUB_DEVICE_ID, SUBENTRY_STATION
from .core.presence import Station
from .core.projects import ProjectNotFoundError
from .data import makerhub_data
from .firmware.manager import ISSUE_REPO, REPO_DEVICE_PREFIX, repo_subentries
from .presence.manager import STATION_DEVICE_PREFIX, station_device_id
from .projects.devices import DEVICE_PREFIX as PROJECT_DEVICE_PREFIX
from .units.subentries import unit_subentries

_LOGGER = logging.getLogger(__package__)


class DeviceKind(StrEnum):
    """What a device of the hub stands for."""

    HUB = "hub"
    UNIT = "unit"
    STATION = "station"
    REPOSITORY = "repository"
    PROJECT = "project"


_PREFIXES: Final = (
    (DeviceKind.STATION, STATION_DEVICE_PREFIX),
    (DeviceKind.REPOSITORY, REPO_DEVICE_PREFIX),
    (DeviceKind.PROJECT, PROJECT_DEVICE_PREFIX),
)


@dataclass(frozen=True, slots=True)
class MakerhubDevice:
    """One of the hub's devices, by what it stands for."""

    kind: DeviceKind
    key: str
    """The unit's uid, the station's subentry id, the repository's or project's id
    (``hub`` for the hub's own device)."""


def parse_device_identifier(identifier: str) -> MakerhubDevice:
    """Return what the device with identifier ``(makerhub, identifier)`` stands for."""
    if identifier == HUB_DEVICE_ID:
        return MakerhubDevice(DeviceKind.HUB, HUB_DEVICE_ID)
    for kind, prefix in _PREFIXES:
        if identifier.startswith(prefix):
            return MakerhubDevice(kind, identifier.removeprefix(prefix))
    return MakerhubDevice(DeviceKind.UNIT, identifier)


def makerhub_device(device: dr.DeviceEntry) -> MakerhubDevice | None:
    """Return what a device stands for (None: it has no Makerhub identifier)."""
    for domain, identifier in sorted(device.identifiers):
        if domain == DOMAIN:
            return parse_device_identifier(identifier)
    return None


def device_exists(hass: HomeAssistant, entry: ConfigEntry, device: MakerhubDevice) -> bool:
    """Return whether what a device stands for is still stored.

    A unit exists while its subentry does, even when its stored schema is corrupt and the
    hub skipped it (its repair issue says to delete the subentry); a station and a
    repository while their subentry does; a project while its record does.
    """
    if device.kind is DeviceKind.HUB:
        return True
    if device.kind is DeviceKind.UNIT:
        return device.key in unit_subentries(entry)
    if device.kind is DeviceKind.STATION:
        subentry = entry.subentries.get(device.key)
        return subentry is not None and subentry.subentry_type == SUBENTRY_STATION
    if device.kind is DeviceKind.REPOSITORY:
        return device.key in repo_subentries(entry)
    try:
        makerhub_data(hass).projects.registry.get(device.key)
    except ProjectNotFoundError:
        return False
    return True


@callback
def async_forget_device(hass: HomeAssistant, device: MakerhubDevice) -> None:
    """Drop what a removed stale device may have left: the repair issues naming it.

    Its entities go with the device (Home Assistant removes a removed device's entities).
    """
    issues = {
        DeviceKind.UNIT: (f"corrupt_unit_{device.key}", f"schema_refused_{device.key}"),
        DeviceKind.REPOSITORY: (f"{ISSUE_REPO}_{device.key}",),
    }
    for issue_id in issues.get(device.kind, ()):
        ir.async_delete_issue(hass, DOMAIN, issue_id)


@callback
def async_remove_stale_devices(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Drop devices of the entry whose unit, station, repository or project no longer
    exists (deleted while Home Assistant was off, or while the hub was not loaded)."""
    registry = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        stands_for = makerhub_device(device)
        if stands_for is None or device_exists(hass, entry, stands_for):
            continue
        _LOGGER.info("Removing the device %s: its %s is gone", device.name, stands_for.kind)
        registry.async_update_device(device.id, remove_config_entry_id=entry.entry_id)
        async_forget_device(hass, stands_for)


def hub_device_info() -> DeviceInfo:
    """Return the hub's own device, which carries the hub-wide entities (telemetry)."""
    return DeviceInfo(
        identifiers={(DOMAIN, HUB_DEVICE_ID)},
        name="Makerhub",
        manufacturer="Makerhub",
        model="Hub",
        entry_type=DeviceEntryType.SERVICE,
    )


def station_device_info(station: Station) -> DeviceInfo:
    """Return a station's device."""
    return DeviceInfo(
        identifiers={(DOMAIN, station_device_id(station.id))},
        name=station.name,
        manufacturer="Makerhub",
        model="Station",
        entry_type=DeviceEntryType.SERVICE,
    )
