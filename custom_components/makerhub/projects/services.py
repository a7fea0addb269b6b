"""Project actions: create a project, add a step, set a person's active project, log an
expense."""

from __future__ import annotations

from typing import Final

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import voluptuous as vol

from ..const import DOMAIN
from ..core.projects import ProjectValidationError
from ..data import makerhub_data
from .store import NO_PROJECT, Projects, changeable_project, service_caller


def _service_error(err: ProjectValidationError) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="invalid_project_input",
        translation_placeholders={"error": str(err)},
    )


async def _checked(call: ServiceCall, ref: str) -> tuple[Projects, str]:
    """Return the projects and the id of the project ``ref`` (id or slug) the caller may
    change."""
    projects = makerhub_data(call.hass).projects
    return projects, (await changeable_project(call, projects, ref)).id


async def _async_create_project(call: ServiceCall) -> ServiceResponse:
    projects = makerhub_data(call.hass).projects
    user = await service_caller(call)
    data = dict(call.data)
    owner = data.pop("owner", None) or (user.id if user else None)
    if owner is None:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="project_owner")
    makerhub_data(call.hass).agreements.check_owner(owner)
    try:
        project = projects.saved(projects.registry.create(data, owner))
    except ProjectValidationError as err:
        raise _service_error(err) from err
    return project.to_json()


async def _async_add_step(call: ServiceCall) -> ServiceResponse:
    projects, project_id = await _checked(call, call.data["project"])
    try:
        project = projects.registry.add_step(
            project_id, call.data["text"], call.data.get("position")
        )
    except ProjectValidationError as err:
        raise _service_error(err) from err
    return projects.saved(project).to_json()


async def _async_set_active_project(call: ServiceCall) -> ServiceResponse:
    projects = makerhub_data(call.hass).projects
    person = call.data["person"]
    user = await service_caller(call)
    state = call.hass.states.get(person)
    if (
        user is not None
        and not user.is_admin
        and (state is None or state.attributes.get("user_id") != user.id)
    ):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_your_person",
            translation_placeholders={"person": person},
        )
    wanted = call.data["project"]
    project_id = None
    if wanted != NO_PROJECT:
        match = [p for p in projects.choices(person) if wanted in (p.id, p.slug)]
        if not match:
            raise _service_error(
                ProjectValidationError({"project": f"{wanted} is none of {person}'s projects"})
            )
        project_id = match[0].id
    projects.set_active(person, project_id)
    active = projects.active_project(person)
    return {"person": person, "project": None if active is None else active.to_json()}


async def _async_log_expense(call: ServiceCall) -> ServiceResponse:
    projects, project_id = await _checked(call, call.data["project"])
    data = {key: call.data[key] for key in ("amount", "currency", "note") if key in call.data}
    if "date" in call.data:
        data["date"] = call.data["date"].isoformat()
    try:
        project, expense = projects.registry.add_expense(
            project_id, data, today=dt_util.now().date()
        )
    except ProjectValidationError as err:
        raise _service_error(err) from err
    projects.saved(project)
    return expense.to_json()


SERVICES: Final = {
    "set_active_project": (
        _async_set_active_project,
        vol.Schema({vol.Required("person"): cv.entity_id, vol.Required("project"): cv.string}),
    ),
    "create_project": (
        _async_create_project,
        vol.Schema(
            {
                vol.Required("name"): cv.string,
                vol.Optional("description"): cv.string,
                vol.Optional("space_use"): cv.string,
                vol.Optional("github_url"): cv.string,
                vol.Optional("steps"): vol.All(cv.ensure_list, [cv.string]),
                vol.Optional("owner"): cv.string,
            }
        ),
    ),
    "add_step": (
        _async_add_step,
        vol.Schema(
            {
                vol.Required("project"): cv.string,
                vol.Required("text"): cv.string,
                vol.Optional("position"): vol.All(vol.Coerce(int), vol.Range(min=0)),
            }
        ),
    ),
    "log_expense": (
        _async_log_expense,
        vol.Schema(
            {
                vol.Required("project"): cv.string,
                vol.Required("amount"): vol.Any(int, float, str),
                vol.Required("currency"): cv.string,
                vol.Optional("note"): cv.string,
                vol.Optional("date"): cv.date,
            }
        ),
    ),
}


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the projects' service actions."""
    for name, (handler, schema) in SERVICES.items():
        hass.services.async_register(
            DOMAIN, name, handler, schema=schema, supports_response=SupportsResponse.OPTIONAL
        )
