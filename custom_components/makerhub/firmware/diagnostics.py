"""Firmware's part of the diagnostics: how the repositories sync, the updates running and
the rollout; per unit made from a repository, what it was built from (its secret env
values redacted); per repository, its refs and units."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry

from ..core.firmware_client import FirmwareRepo
from ..core.schema import UnitSchema
from ..core.unit_env import declared_env, redact_env
from .manager import (
    DATA_AUTO_UPDATE,
    DATA_COMMIT,
    DATA_REPO_ID,
    DATA_TRACK,
    DATA_URL,
    DATA_VERSION,
    HubFirmware,
    UpdateJob,
    firmware_units,
    repo_subentries,
)


def firmware_diagnostics(firmware: HubFirmware) -> dict[str, Any] | None:
    """Return the firmware service's picture (None: no service is set up)."""
    if firmware.client is None:
        return None
    return {
        "repositories": {
            repo_id: _repo_sync_diagnostics(status.repo)
            for repo_id, status in (firmware.coordinator.data or {}).items()
        },
        "updates": {uid: _job_diagnostics(job) for uid, job in firmware.jobs.items()},
        "rollout": rollout_diagnostics(firmware),
    }


def rollout_diagnostics(firmware: HubFirmware) -> dict[str, Any] | None:
    """Return the rollout's summary, if one runs."""
    return None if firmware.rollout is None else firmware.rollout.summary()


def unit_firmware_diagnostics(
    entry: ConfigEntry, firmware: HubFirmware, uid: str, schema: UnitSchema
) -> dict[str, Any] | None:
    """Return what a unit was built from (None: it was not made from a repository)."""
    subentry = firmware_units(entry).get(uid)
    if subentry is None:
        return None
    data = subentry.data
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


def repository_device_diagnostics(
    entry: ConfigEntry, firmware: HubFirmware, repo_id: str
) -> dict[str, Any]:
    """A repository: how its syncs go, its branches and tags, and the units made from it."""
    subentry = repo_subentries(entry)[repo_id]
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
