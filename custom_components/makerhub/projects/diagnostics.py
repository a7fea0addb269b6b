"""Projects' part of the diagnostics: how many there are, which services people
connected (never the tokens), and per project its record and how Todoist syncs went."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from ..data import makerhub_data
from .devices import project_subentries


def projects_diagnostics(hass: HomeAssistant) -> dict[str, Any]:
    """Return the projects by status and each person's connected services."""
    data = makerhub_data(hass)
    registry = data.projects.registry
    people = [state.entity_id for state in hass.states.async_all("person")]
    return {
        "count": len(registry),
        "by_status": {
            status: len(registry.find(status=status)) for status in ("active", "paused", "archived")
        },
        "connected_accounts": {
            person: [service.value for service in data.accounts.connected(person)]
            for person in people
        },
    }


def project_device_diagnostics(
    hass: HomeAssistant, entry: ConfigEntry, project_id: str
) -> dict[str, Any]:
    """A project: its record, its wizard entry, how Todoist syncs went, and which
    services its owner connected (never the tokens)."""
    data = makerhub_data(hass)
    project = data.projects.registry.get(project_id)
    person = data.todoist.person_of(project)
    return {
        "project": project.to_json(),
        "wizard_subentry": project_id in project_subentries(entry),
        "todoist": data.todoist.status_attributes(project_id),
        "owner": {
            "person": person,
            "connected_accounts": []
            if person is None
            else [service.value for service in data.accounts.connected(person)],
        },
    }
