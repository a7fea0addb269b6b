"""Diagnostics: the hub's runtime picture, bad-input counters, each unit's state, and
projects (which accounts are connected, never the tokens; how Todoist syncs went)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from . import MakerhubConfigEntry
from .accounts import DATA_ACCOUNTS
from .const import DOMAIN, HUB_DEVICE_ID
from .hub import unit_diagnostics
from .project_devices import DEVICE_PREFIX
from .project_sync import DATA_TODOIST
from .projects import DATA_PROJECTS

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
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: MakerhubConfigEntry
) -> dict[str, Any]:
    """Return the hub's diagnostics."""
    return async_redact_data(
        {
            "entry": {"data": dict(entry.data), "options": dict(entry.options)},
            "hub": entry.runtime_data.diagnostics(),
            "projects": _projects_diagnostics(hass),
            "links": [link.to_json() for link in entry.runtime_data.links.links()],
            "broker_access": _broker_access_diagnostics(entry),
            "firmware": _firmware_diagnostics(entry),
        },
        TO_REDACT,
    )


def _firmware_diagnostics(entry: MakerhubConfigEntry) -> dict[str, Any] | None:
    firmware = entry.runtime_data.firmware
    if firmware is None or firmware.client is None:
        return None
    return {
        "repositories": {
            repo_id: {
                "name": status.repo.name,
                "last_sync": status.repo.last_sync,
                "last_error": status.repo.last_error,
                "default_branch": status.repo.default_branch,
            }
            for repo_id, status in (firmware.coordinator.data or {}).items()
        },
        "updates": {
            uid: {"version": job.version, "status": job.status.value, "error": job.error}
            for uid, job in firmware.jobs.items()
        },
        "rollout": None if firmware.rollout is None else firmware.rollout.summary(),
    }


def _broker_access_diagnostics(entry: MakerhubConfigEntry) -> dict[str, Any] | None:
    access = entry.runtime_data.broker_access
    if access is None:
        return None
    return {
        "mode": access.mode.value,
        "units_applied": sorted(access.applied),
        "last_error": access.last_error,
    }


def _projects_diagnostics(hass: HomeAssistant) -> dict[str, Any]:
    registry = hass.data[DATA_PROJECTS].registry
    accounts = hass.data[DATA_ACCOUNTS]
    people = [state.entity_id for state in hass.states.async_all("person")]
    return {
        "count": len(registry),
        "by_status": {
            status: len(registry.find(status=status)) for status in ("active", "paused", "archived")
        },
        "connected_accounts": {
            person: [service.value for service in accounts.connected(person)] for person in people
        },
    }


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: MakerhubConfigEntry, device: dr.DeviceEntry
) -> dict[str, Any]:
    """Return one unit's diagnostics, or the telemetry's for the hub's own device."""
    hub = entry.runtime_data
    uid = next(ident for domain, ident in device.identifiers if domain == DOMAIN)
    if uid == HUB_DEVICE_ID:
        telemetry = hub.telemetry
        return {"telemetry": None if telemetry is None else telemetry.store.diagnostics()}
    if uid.startswith(DEVICE_PREFIX):
        project_id = uid.removeprefix(DEVICE_PREFIX)
        project = hass.data[DATA_PROJECTS].registry.get(project_id)
        return {
            "project": project.to_json(),
            "todoist": hass.data[DATA_TODOIST].status_attributes(project_id),
        }
    unit = hub.units[uid]
    return async_redact_data(
        {
            "unit": unit_diagnostics(unit, hass.loop.time()),
            "bad_input": hub.bad_input.by_unit.get(uid, 0),
        },
        TO_REDACT,
    )
