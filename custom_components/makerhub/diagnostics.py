"""Diagnostics: the hub's runtime picture, bad-input counters, each unit's state, and
projects (which accounts are connected, never the tokens; how Todoist syncs went).

Device diagnostics cover every kind of device the hub makes (see ``devices``): the hub's
own device, units, stations, repositories and projects, secrets redacted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any, Final

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .const import DATA_AREA, DATA_DISPLAY
from .core.firmware_client import FirmwareRepo
from .core.unit_env import declared_env, redact_env
from .devices import DeviceKind, device_exists, makerhub_device
from .firmware.manager import (
    DATA_AUTO_UPDATE,
    DATA_COMMIT,
    DATA_REPO_ID,
    DATA_TRACK,
    DATA_URL,
    DATA_VERSION,
    UpdateJob,
    firmware_units,
    repo_subentries,
)
from .presence.manager import station_from_subentry
from .projects.accounts import DATA_ACCOUNTS
from .projects.devices import project_subentries
from .projects.store import DATA_PROJECTS
from .projects.todoist import DATA_TODOIST
from .runtime import MakerhubConfigEntry
from .units.hub import unit_diagnostics

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
    runtime = entry.runtime_data
    hub: dict[str, Any] = {
        **runtime.hub.diagnostics(),
        "presence": runtime.presence.diagnostics(),
    }
    return async_redact_data(
        {
            "entry": {"data": dict(entry.data), "options": dict(entry.options)},
            "hub": hub,
            "projects": _projects_diagnostics(hass),
            "links": [link.to_json() for link in runtime.hub.links.links()],
            "broker_access": _broker_access_diagnostics(entry),
            "firmware": _firmware_diagnostics(entry),
        },
        TO_REDACT,
    )


def _firmware_diagnostics(entry: MakerhubConfigEntry) -> dict[str, Any] | None:
    firmware = entry.runtime_data.firmware
    if firmware.client is None:
        return None
    return {
        "repositories": {
            repo_id: _repo_sync_diagnostics(status.repo)
            for repo_id, status in (firmware.coordinator.data or {}).items()
        },
        "updates": {uid: _job_diagnostics(job) for uid, job in firmware.jobs.items()},
        "rollout": None if firmware.rollout is None else firmware.rollout.summary(),
    }


def _broker_access_diagnostics(entry: MakerhubConfigEntry) -> dict[str, Any] | None:
    access = entry.runtime_data.broker_access
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
    return async_redact_data({"device": header, **details}, TO_REDACT)


def _hub_device_diagnostics(
    hass: HomeAssistant, entry: MakerhubConfigEntry, _key: str
) -> dict[str, Any]:
    """The hub's own device: telemetry, presence, projects and the rollout it shows."""
    runtime = entry.runtime_data
    rollout = runtime.firmware.rollout
    return {
        "telemetry": None if runtime.telemetry is None else runtime.telemetry.store.diagnostics(),
        "presence": runtime.presence.diagnostics(),
        "projects": _projects_diagnostics(hass),
        "rollout": None if rollout is None else rollout.summary(),
    }


def _unit_device_diagnostics(
    hass: HomeAssistant, entry: MakerhubConfigEntry, uid: str
) -> dict[str, Any]:
    """A unit: its runtime picture, bad input, links, and its firmware when it was made
    from a repository (the env values it was given, secret ones redacted)."""
    runtime = entry.runtime_data
    hub, access = runtime.hub, runtime.broker_access
    unit = hub.units.get(uid)
    if unit is None:
        return {"unit": None, "error": "its stored schema is corrupt (see its repair issue)"}
    return {
        "unit": unit_diagnostics(unit, hass.loop.time()),
        "bad_input": hub.bad_input.by_unit.get(uid, 0),
        "links": [
            link.to_json() for link in hub.links.links() if uid in (link.source, link.target)
        ],
        "broker_access": {"mode": access.mode.value, "applied": uid in access.applied},
        "firmware": _unit_firmware_diagnostics(entry, uid),
    }


def _unit_firmware_diagnostics(entry: MakerhubConfigEntry, uid: str) -> dict[str, Any] | None:
    firmware = entry.runtime_data.firmware
    subentry = firmware_units(entry).get(uid)
    if subentry is None:
        return None
    data = subentry.data
    schema = entry.runtime_data.hub.units[uid].identity.schema
    return {
        "repository": data[DATA_REPO_ID],
        "track": data.get(DATA_TRACK),
        "commit": data.get(DATA_COMMIT),
        "version": data.get(DATA_VERSION),
        "auto_update": bool(data.get(DATA_AUTO_UPDATE)),
        "latest": firmware.latest(uid),
        "env": redact_env(firmware.user_env(subentry), declared_env(schema)),
        "update": _job_diagnostics(firmware.jobs.get(uid)),
    }


def _job_diagnostics(job: UpdateJob | None) -> dict[str, Any] | None:
    if job is None:
        return None
    return {"version": job.version, "status": job.status.value, "error": job.error}


def _station_device_diagnostics(
    hass: HomeAssistant, entry: MakerhubConfigEntry, station_id: str
) -> dict[str, Any]:
    """A station: its beacon and scanners, where it is, and who is there."""
    presence = entry.runtime_data.presence
    subentry = entry.subentries[station_id]
    station = station_from_subentry(subentry)
    return {
        "station": {
            "name": station.name,
            "beacon": asdict(station.beacon),
            "measured_power": station.measured_power,
            "scanners": sorted(station.scanners),
            "area_id": subentry.data.get(DATA_AREA),
            "display_device_id": subentry.data.get(DATA_DISPLAY),
        },
        "people": {
            person.person: {
                "distance": person.distance,
                "source": None if person.source is None else person.source.value,
                "project": person.project,
            }
            for person in presence.engine.people()
            if person.station == station_id
        },
    }


def _repository_device_diagnostics(
    hass: HomeAssistant, entry: MakerhubConfigEntry, repo_id: str
) -> dict[str, Any]:
    """A repository: how its syncs go, its branches and tags, and the units made from it."""
    subentry = repo_subentries(entry)[repo_id]
    firmware = entry.runtime_data.firmware
    status = firmware.status(repo_id)
    refs = None if status is None else status.refs
    return {
        "repository": {"name": subentry.title, "url": subentry.data[DATA_URL]},
        "sync": None if status is None else _repo_sync_diagnostics(status.repo),
        "refs": None
        if refs is None
        else {
            "default_branch": refs.default_branch,
            "branches": [ref.name for ref in refs.branches],
            "tags": [ref.name for ref in refs.tags],
        },
        "units": {
            uid: {
                "name": unit.title,
                "track": unit.data.get(DATA_TRACK),
                "version": unit.data.get(DATA_VERSION),
                "auto_update": bool(unit.data.get(DATA_AUTO_UPDATE)),
            }
            for uid, unit in firmware_units(entry).items()
            if unit.data[DATA_REPO_ID] == repo_id
        },
    }


def _repo_sync_diagnostics(repo: FirmwareRepo) -> dict[str, Any]:
    return {
        "name": repo.name,
        "last_sync": repo.last_sync,
        "last_attempt": repo.last_attempt,
        "last_error": repo.last_error,
        "default_branch": repo.default_branch,
        "syncs": repo.syncs,
        "auth": repo.auth,
        "has_credentials": repo.has_credentials,
    }


def _project_device_diagnostics(
    hass: HomeAssistant, entry: MakerhubConfigEntry, project_id: str
) -> dict[str, Any]:
    """A project: its record, its wizard entry, how Todoist syncs went, and which
    services its owner connected (never the tokens)."""
    project = hass.data[DATA_PROJECTS].registry.get(project_id)
    todoist = hass.data[DATA_TODOIST]
    person = todoist.person_of(project)
    return {
        "project": project.to_json(),
        "wizard_subentry": project_id in project_subentries(entry),
        "todoist": todoist.status_attributes(project_id),
        "owner": {
            "person": person,
            "connected_accounts": []
            if person is None
            else [service.value for service in hass.data[DATA_ACCOUNTS].connected(person)],
        },
    }


_DEVICE_DIAGNOSTICS: Final[
    dict[DeviceKind, Callable[[HomeAssistant, MakerhubConfigEntry, str], dict[str, Any]]]
] = {
    DeviceKind.HUB: _hub_device_diagnostics,
    DeviceKind.UNIT: _unit_device_diagnostics,
    DeviceKind.STATION: _station_device_diagnostics,
    DeviceKind.REPOSITORY: _repository_device_diagnostics,
    DeviceKind.PROJECT: _project_device_diagnostics,
}
