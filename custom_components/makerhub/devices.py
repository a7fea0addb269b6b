"""The hub's devices, one place for their identity: identifiers, ``DeviceInfo``, and
which thing each stands for.

Every device of the hub carries one ``(makerhub, id)`` identifier: ``hub`` for the hub's
own device, a unit's uid (12 hex digits), ``station_<subentry id>``, ``repo-<repository
id>``, ``project-<project id>`` or ``camera-<recorder camera id>``. Whether the thing
still exists: ``stale_devices``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from homeassistant.config_entries import ConfigSubentry
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo

from .const import DOMAIN, HUB_DEVICE_ID
from .core.presence import Station
from .core.projects import Project
from .core.unit import UnitIdentity
from .firmware.manager import DATA_URL

STATION_DEVICE_PREFIX: Final = "station_"
REPO_DEVICE_PREFIX: Final = "repo-"
PROJECT_DEVICE_PREFIX: Final = "project-"
CAMERA_DEVICE_PREFIX: Final = "camera-"


class DeviceKind(StrEnum):
    """What a device of the hub stands for."""

    HUB = "hub"
    UNIT = "unit"
    STATION = "station"
    REPOSITORY = "repository"
    PROJECT = "project"
    CAMERA = "camera"


_PREFIXES: Final = (
    (DeviceKind.STATION, STATION_DEVICE_PREFIX),
    (DeviceKind.REPOSITORY, REPO_DEVICE_PREFIX),
    (DeviceKind.PROJECT, PROJECT_DEVICE_PREFIX),
    (DeviceKind.CAMERA, CAMERA_DEVICE_PREFIX),
)


@dataclass(frozen=True, slots=True)
class MakerhubDevice:
    """One of the hub's devices, by what it stands for."""

    kind: DeviceKind
    key: str
    """The unit's uid, the station's subentry id, the repository's or project's id
    (``hub`` for the hub's own device)."""


def station_device_id(station: str) -> str:
    """Return the device identifier of a station (its subentry id, kept apart from uids)."""
    return f"{STATION_DEVICE_PREFIX}{station}"


def repo_device_id(repo_id: str) -> str:
    """Return the device identifier of a repository."""
    return f"{REPO_DEVICE_PREFIX}{repo_id}"


def project_device_id(project_id: str) -> str:
    """Return the device identifier of a project (kept apart from unit ids)."""
    return f"{PROJECT_DEVICE_PREFIX}{project_id}"


def camera_device_id(camera_id: str) -> str:
    """Return the device identifier of a recorder camera (its id: what it is, not where)."""
    return f"{CAMERA_DEVICE_PREFIX}{camera_id}"


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


def _service_device_info(identifier: str, name: str, model: str) -> DeviceInfo:
    """Return a device of the hub that is a service (every kind but units)."""
    return DeviceInfo(
        identifiers={(DOMAIN, identifier)},
        name=name,
        manufacturer="Makerhub",
        model=model,
        entry_type=DeviceEntryType.SERVICE,
    )


def hub_device_info() -> DeviceInfo:
    """Return the hub's own device, which carries the hub-wide entities (telemetry)."""
    return _service_device_info(HUB_DEVICE_ID, "Makerhub", "Hub")


def station_device_info(station: Station) -> DeviceInfo:
    """Return a station's device."""
    return _service_device_info(station_device_id(station.id), station.name, "Station")


def unit_device_info(identity: UnitIdentity, version: str | None) -> DeviceInfo:
    """Return a unit's device; its firmware ``version`` only once the unit reported one."""
    info = DeviceInfo(
        identifiers={(DOMAIN, identity.uid)},
        name=identity.name,
        manufacturer="Makerhub",
        model=identity.model or identity.schema.name,
        serial_number=identity.uid,
    )
    if version is not None:
        info["sw_version"] = version
    return info


def repo_device_info(subentry: ConfigSubentry, repo_id: str) -> DeviceInfo:
    """Return a repository's device (its URL a link only when it is https)."""
    info = _service_device_info(repo_device_id(repo_id), subentry.title, "Repository")
    url = subentry.data.get(DATA_URL)
    info["configuration_url"] = url if str(url or "").startswith("https://") else None
    return info


def project_device_info(project: Project) -> DeviceInfo:
    """Return a project's device."""
    info = _service_device_info(project_device_id(project.id), project.name, "Project")
    info["configuration_url"] = project.github_url
    return info


def camera_device_info(camera_id: str, name: str, kind: str, serial: str | None) -> DeviceInfo:
    """Return a camera's device (a device of the hub: the recorder records it)."""
    info = DeviceInfo(
        identifiers={(DOMAIN, camera_device_id(camera_id))},
        name=name,
        manufacturer="Makerhub",
        model=f"Camera ({kind})",
        via_device=(DOMAIN, HUB_DEVICE_ID),
    )
    if serial is not None:
        info["serial_number"] = serial
    return info
