"""The projects' actions: create_project, add_step and log_expense, with their checks."""

from __future__ import annotations

from typing import Any

from homeassistant.auth.models import User
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest

from custom_components.makerhub.const import DOMAIN


async def test_actions(
    hass: HomeAssistant, setup: None, hass_admin_user: User, hass_read_only_user: User
) -> None:
    """create_project, add_step and log_expense, with their checks."""
    admin = Context(user_id=hass_admin_user.id)
    member = Context(user_id=hass_read_only_user.id)
    project = await hass.services.async_call(
        DOMAIN,
        "create_project",
        {"name": "Clock", "steps": ["Cut", "Glue"], "github_url": "https://github.com/a/clock"},
        blocking=True,
        return_response=True,
        context=admin,
    )
    assert project is not None
    assert project["owner"] == hass_admin_user.id
    pid = str(project["id"])
    project = await hass.services.async_call(
        DOMAIN, "add_step", {"project": pid, "text": "Paint", "position": 1},
        blocking=True, return_response=True, context=admin,
    )  # fmt: skip
    assert project is not None
    assert [s["text"] for s in project["steps"]] == ["Cut", "Paint", "Glue"]
    expense = await hass.services.async_call(
        DOMAIN, "log_expense",
        {"project": pid, "amount": 4.2, "currency": "EUR", "date": "2026-11-02", "note": "glue"},
        blocking=True, return_response=True,
    )  # fmt: skip
    assert expense == {
        "id": expense["id"] if expense else None,
        "date": "2026-11-02",
        "amount": "4.2",
        "currency": "EUR",
        "note": "glue",
    }

    async def refused(service: str, data: dict[str, Any], context: Context | None = None) -> str:
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(
                DOMAIN, service, data, blocking=True, return_response=True, context=context
            )
        return str(err.value.translation_key)

    assert await refused("add_step", {"project": "nope", "text": "x"}, admin) == "unknown_project"
    assert await refused("add_step", {"project": pid, "text": "x"}, member) == "not_your_project"
    assert (
        await refused("add_step", {"project": pid, "text": " "}, admin) == "invalid_project_input"
    )
    assert (
        await refused("log_expense", {"project": pid, "amount": 1, "currency": "euro"})
        == "invalid_project_input"
    )
    assert await refused("create_project", {"name": "x"}) == "project_owner"  # no user
    assert (
        await refused("create_project", {"name": "x", "github_url": "nope"}, admin)
        == "invalid_project_input"
    )
    made = await hass.services.async_call(
        DOMAIN, "create_project", {"name": "By automation", "owner": hass_read_only_user.id},
        blocking=True, return_response=True,
    )  # fmt: skip
    assert made is not None
    assert made["owner"] == hass_read_only_user.id
