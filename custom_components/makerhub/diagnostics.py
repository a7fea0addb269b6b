"""Diagnostics: the hub's runtime picture, and what each device stands for.

Each feature gathers its own part (the ``diagnostics`` modules of ``units``,
``broker_access``, ``firmware``, ``desktops``, ``presence``, ``projects``, ``members``,
``health``, ``cameras`` and ``displays``; telemetry's store, presence's engine and the links report
themselves); this module puts them together, dispatches a device's diagnostics by what it
stands for (see ``devices``: the hub's own device, units, stations, repositories, projects
with their desktop, and cameras) and redacts secrets: values under secret keys, and the
user and password in any address (a service URL typed as ``http://user:pass@host``, a
camera's stream address in an error the service passed on).
"""

from __future__ import annotations

from collections.abc import Callable
import re
from typing import Any, Final, cast

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .broker_access.diagnostics import (
    broker_access_diagnostics,
    unit_broker_access_diagnostics,
)
from .cameras.diagnostics import camera_device_diagnostics, cameras_diagnostics
from .desktops.diagnostics import desktops_diagnostics, project_desktop_diagnostics
from .devices import DeviceKind, makerhub_device
from .displays.diagnostics import displays_diagnostics
from .firmware.diagnostics import (
    firmware_diagnostics,
    repository_device_diagnostics,
    rollout_diagnostics,
    unit_firmware_diagnostics,
)
from .health.diagnostics import health_diagnostics
from .members.diagnostics import members_diagnostics
from .presence.diagnostics import station_device_diagnostics
from .projects.diagnostics import project_device_diagnostics, projects_diagnostics
from .runtime import MakerhubConfigEntry
from .stale_devices import device_exists
from .telemetry.manager import HubTelemetry
from .units.diagnostics import hub_diagnostics, unit_device_diagnostics

TO_REDACT = {
    "password",
    "token",
    "secret",
    "MH_MQTT_PASSWORD",
    "MH_TOKEN",
    "WIFI_PASS",
    "unit_broker_password",
    "telemetry_dsn",
    "broker_admin_password",
    "firmware_token",
    "desktops_token",
    "recorder_token",
}
_URL_CREDENTIALS: Final = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)(?![^/?#\s]*:\*\*\*@)[^/?#\s]+@")
"""A user and password (or a token as the user) in an address; not one already shown as
``user:***`` (telemetry's database, whose user helps to troubleshoot)."""


def redact(data: dict[str, Any]) -> dict[str, Any]:
    """Return ``data`` with secret keys' values and addresses' credentials redacted."""
    return cast("dict[str, Any]", _redact_url_credentials(async_redact_data(data, TO_REDACT)))


def _redact_url_credentials(value: Any) -> Any:
    if isinstance(value, str):
        return _URL_CREDENTIALS.sub(rf"\g<1>{REDACTED}@", value)
    if isinstance(value, dict):
        return {key: _redact_url_credentials(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_url_credentials(item) for item in value]
    return value


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: MakerhubConfigEntry
) -> dict[str, Any]:
    """Return the hub's diagnostics."""
    runtime = entry.runtime_data
    hub: dict[str, Any] = {
        **hub_diagnostics(runtime.hub),
        "telemetry": _telemetry_diagnostics(runtime.telemetry),
        "presence": runtime.presence.diagnostics(),
    }
    return redact(
        {
            "entry": {"data": dict(entry.data), "options": dict(entry.options)},
            "hub": hub,
            "projects": projects_diagnostics(hass),
            "members": members_diagnostics(hass),
            "links": [link.to_json() for link in runtime.hub.links.links()],
            "broker_access": broker_access_diagnostics(runtime.broker_access),
            "firmware": firmware_diagnostics(runtime.firmware),
            "desktops": desktops_diagnostics(runtime.desktops),
            "health": health_diagnostics(runtime.health),
            "cameras": cameras_diagnostics(runtime.cameras),
            "displays": displays_diagnostics(hass, runtime),
        }
    )


def _telemetry_diagnostics(telemetry: HubTelemetry | None) -> dict[str, Any] | None:
    return None if telemetry is None else telemetry.store.diagnostics()


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: MakerhubConfigEntry, device: dr.DeviceEntry
) -> dict[str, Any]:
    """Return what one device stands for: the hub's own device, a unit, a station, a
    repository or a project; a stale or foreign device, or a stopped hub, gets a short
    answer saying so."""
    stands_for = makerhub_device(device)
    if stands_for is None:
        return {"device": None, "error": "not a device of the Makerhub hub"}
    exists = device_exists(hass, entry, stands_for)
    header = {"kind": stands_for.kind.value, "id": stands_for.key, "exists": exists}
    if not exists:
        return {
            "device": header,
            "error": f"its {stands_for.kind} no longer exists; delete the device on its page",
        }
    if entry.state is not ConfigEntryState.LOADED:
        return {"device": header, "error": "the hub is not running"}
    details = _DEVICE_DIAGNOSTICS[stands_for.kind](hass, entry, stands_for.key)
    return redact({"device": header, **details})


def _hub_device_diagnostics(
    hass: HomeAssistant, entry: MakerhubConfigEntry, _key: str
) -> dict[str, Any]:
    """The hub's own device: telemetry, presence, projects and the rollout it shows."""
    runtime = entry.runtime_data
    return {
        "telemetry": _telemetry_diagnostics(runtime.telemetry),
        "presence": runtime.presence.diagnostics(),
        "projects": projects_diagnostics(hass),
        "rollout": rollout_diagnostics(runtime.firmware),
    }


def _unit_device_diagnostics(
    hass: HomeAssistant, entry: MakerhubConfigEntry, uid: str
) -> dict[str, Any]:
    """A unit: its runtime picture, bad input, links, and its firmware when it was made
    from a repository (the env values it was given, secret ones redacted)."""
    runtime = entry.runtime_data
    unit = unit_device_diagnostics(runtime.hub, uid)
    if unit is None:
        return {"unit": None, "error": "its stored schema is corrupt (see its repair issue)"}
    schema = runtime.hub.units[uid].identity.schema
    return {
        **unit,
        "broker_access": unit_broker_access_diagnostics(runtime.broker_access, uid),
        "firmware": unit_firmware_diagnostics(entry, runtime.firmware, uid, schema),
    }


_DEVICE_DIAGNOSTICS: Final[
    dict[DeviceKind, Callable[[HomeAssistant, MakerhubConfigEntry, str], dict[str, Any]]]
] = {
    DeviceKind.HUB: _hub_device_diagnostics,
    DeviceKind.UNIT: _unit_device_diagnostics,
    DeviceKind.STATION: lambda _hass, entry, key: station_device_diagnostics(
        entry, entry.runtime_data.presence, key
    ),
    DeviceKind.REPOSITORY: lambda _hass, entry, key: repository_device_diagnostics(
        entry, entry.runtime_data.firmware, key
    ),
    DeviceKind.PROJECT: lambda hass, entry, key: {
        **project_device_diagnostics(hass, entry, key),
        "desktop": project_desktop_diagnostics(entry.runtime_data.desktops, key),
    },
    DeviceKind.CAMERA: lambda _hass, entry, key: camera_device_diagnostics(
        entry.runtime_data.cameras, key
    ),
}
