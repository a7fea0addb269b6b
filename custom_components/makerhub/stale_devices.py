"""Whether what a device of the hub stands for still exists, and removing stale devices.

Device diagnostics and device removal (by the user, and of stale devices when the hub
starts: :func:`async_remove_stale_devices`) ask here whether a device is live.
"""

from __future__ import annotations

import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, issue_registry as ir

from .const import DOMAIN, SUBENTRY_STATION
from .core.projects import ProjectNotFoundError
from .data import makerhub_data
from .devices import DeviceKind, MakerhubDevice, makerhub_device
from .firmware.manager import ISSUE_REPO, repo_subentries
from .units.subentries import unit_subentries

_LOGGER = logging.getLogger(__package__)


def device_exists(hass: HomeAssistant, entry: ConfigEntry, device: MakerhubDevice) -> bool:
    """Return whether what a device stands for is still stored.

    A unit exists while its subentry does, even when its stored schema is corrupt and the
    hub skipped it (its repair issue says to delete the subentry); a station and a
    repository while their subentry does; a project while its record does; a camera while the
    recorder service lists it (assumed until the cameras' first poll).
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
    if device.kind is DeviceKind.CAMERA:
        runtime = getattr(entry, "runtime_data", None)
        return runtime is None or runtime.cameras.camera_exists(device.key)
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
