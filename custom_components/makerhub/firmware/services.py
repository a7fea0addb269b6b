"""Firmware actions: ``makerhub.update_units``, a fleet rollout."""

from __future__ import annotations

from typing import Final

from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from ..const import DOMAIN
from ..core.rollout import RolloutPlan
from ..runtime import loaded_runtime
from ..units.lookup import unit_by_reference
from .manager import DATA_REPO_ID, firmware_units, repo_subentries

UPDATE_UNITS_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("units"): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional("repository"): cv.string,
        vol.Optional("only_outdated", default=True): cv.boolean,
        vol.Optional("batch_size", default=0): vol.All(vol.Coerce(int), vol.Range(min=0)),
        vol.Optional("pause", default=0): vol.All(vol.Coerce(float), vol.Range(min=0)),
        vol.Optional("max_failures", default=0): vol.All(vol.Coerce(int), vol.Range(min=0)),
        vol.Optional("window_start"): cv.time,
        vol.Optional("window_end"): cv.time,
    }
)


async def _async_update_units(call: ServiceCall) -> ServiceResponse:
    """Start a fleet rollout of units made from repositories; return what it covers."""
    hass = call.hass
    runtime = loaded_runtime(hass)
    hub, firmware = runtime.hub, runtime.firmware
    if firmware.client is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="firmware_not_configured"
        )
    candidates = firmware_units(hub.entry)
    if "units" in call.data:
        chosen = [unit_by_reference(hass, hub, reference).uid for reference in call.data["units"]]
        if missing := [uid for uid in chosen if uid not in candidates]:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="firmware_failed",
                translation_placeholders={
                    "error": f"not made from a repository: {', '.join(missing)}"
                },
            )
    else:
        chosen = sorted(candidates)
    if repository := call.data.get("repository"):
        repos = {
            rid: sub
            for rid, sub in repo_subentries(hub.entry).items()
            if repository in (rid, sub.title)
        }
        if not repos:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="firmware_failed",
                translation_placeholders={"error": f"no repository {repository}"},
            )
        chosen = [uid for uid in chosen if candidates[uid].data[DATA_REPO_ID] in repos]
    if call.data["only_outdated"]:
        chosen = [uid for uid in chosen if firmware.outdated(uid)]
    try:
        plan = RolloutPlan(
            tuple(dict.fromkeys(chosen)),
            batch_size=call.data["batch_size"],
            pause=call.data["pause"],
            max_failures=call.data["max_failures"],
            window_start=call.data.get("window_start"),
            window_end=call.data.get("window_end"),
        )
    except ValueError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="firmware_failed",
            translation_placeholders={"error": str(err)},
        ) from err
    rollout = await firmware.async_rollout(plan)
    return {"rollout": rollout.id, "units": list(plan.units)}


def async_setup_services(hass: HomeAssistant) -> None:
    """Register ``makerhub.update_units``."""
    hass.services.async_register(
        DOMAIN,
        "update_units",
        _async_update_units,
        schema=UPDATE_UNITS_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
