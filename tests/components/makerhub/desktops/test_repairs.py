"""A refused desktops token: a fixable repair issue whose fix flow takes a new token,
checks it with the real service, stores it sealed, and the hub polls with it again."""

from __future__ import annotations

from typing import Any

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerhub.const import DOMAIN
from custom_components.makerhub.desktops.manager import (
    CONF_DESKTOPS_TOKEN,
    CONF_DESKTOPS_URL,
    ISSUE_TOKEN_REFUSED,
    ISSUE_UNREACHABLE,
)
from custom_components.makerhub.repairs import async_create_fix_flow
from custom_components.makerhub.secrets import (
    CONTEXT_DESKTOPS_TOKEN,
    async_get_secret_box,
    open_text_or_none,
)
from dev.processes.desktops_process import DesktopsServiceProcess
from tests.helpers.desktops_service import TOKEN

from .conftest import SENSOR
from .test_manager import refresh

NEW_TOKEN = "the-new-desktops-token-42"


async def change_service_token(service: DesktopsServiceProcess, token: str) -> None:
    """Restart the service with another token (as after reinstalling the add-on)."""
    service.stop()
    service.token = token
    service.start()


async def fix(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, *steps: dict[str, Any]
) -> list[dict[str, Any]]:
    """Start the token issue's fix flow and send ``steps``; return every answer."""
    assert await async_setup_component(hass, "repairs", {})
    client = await hass_client()
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": ISSUE_TOKEN_REFUSED}
    )
    assert response.status == 200, await response.text()
    answers = [await response.json()]
    for step in steps:
        response = await client.post(f"/api/repairs/issues/fix/{answers[0]['flow_id']}", json=step)
        assert response.status == 200, await response.text()
        answers.append(await response.json())
    await hass.async_block_till_done()
    return answers


async def test_a_refused_token_is_fixed_by_entering_the_new_one(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    desktops_hub: MockConfigEntry,
    service: DesktopsServiceProcess,
) -> None:
    issues = ir.async_get(hass)
    await change_service_token(service, NEW_TOKEN)
    await refresh(hass, desktops_hub)
    issue = issues.async_get_issue(DOMAIN, ISSUE_TOKEN_REFUSED)
    assert issue is not None
    assert issue.is_fixable
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["url"] == service.url
    assert issues.async_get_issue(DOMAIN, ISSUE_UNREACHABLE) is None
    assert hass.states.get(SENSOR).state == STATE_UNAVAILABLE

    form, wrong, right = await fix(
        hass,
        hass_client,
        {CONF_DESKTOPS_TOKEN: TOKEN},  # the old one: refused again
        {CONF_DESKTOPS_TOKEN: f" {NEW_TOKEN} "},
    )
    assert form["type"] == "form"
    assert form["step_id"] == "init"
    assert form["description_placeholders"]["url"] == service.url
    assert wrong["type"] == "form"
    assert wrong["errors"] == {"base": "desktops_auth"}
    assert right["type"] == "create_entry"

    sealed = desktops_hub.options[CONF_DESKTOPS_TOKEN]
    assert NEW_TOKEN not in str(desktops_hub.options)
    box = await async_get_secret_box(hass)
    assert open_text_or_none(box, sealed, CONTEXT_DESKTOPS_TOKEN) == NEW_TOKEN
    assert desktops_hub.options[CONF_DESKTOPS_URL] == service.url
    # The hub reloaded with the new token: its poll works, the issue is gone.
    assert issues.async_get_issue(DOMAIN, ISSUE_TOKEN_REFUSED) is None
    assert hass.states.get(SENSOR).state == "stopped"
    await refresh(hass, desktops_hub)
    assert issues.async_get_issue(DOMAIN, ISSUE_TOKEN_REFUSED) is None
    assert desktops_hub.runtime_data.desktops.available


async def test_an_unreachable_service_is_said_in_the_fix_flow_and_nothing_is_stored(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    desktops_hub: MockConfigEntry,
    service: DesktopsServiceProcess,
) -> None:
    issues = ir.async_get(hass)
    await change_service_token(service, NEW_TOKEN)
    await refresh(hass, desktops_hub)
    stored = desktops_hub.options[CONF_DESKTOPS_TOKEN]
    service.stop()
    _, answer = await fix(hass, hass_client, {CONF_DESKTOPS_TOKEN: NEW_TOKEN})
    assert answer["type"] == "form"
    assert answer["errors"] == {"base": "desktops_unreachable"}
    assert "cannot be reached" in answer["description_placeholders"]["error"]
    assert desktops_hub.options[CONF_DESKTOPS_TOKEN] == stored
    assert issues.async_get_issue(DOMAIN, ISSUE_TOKEN_REFUSED) is not None

    # A service gone altogether is the other issue (not fixable by a token); one at a time.
    await refresh(hass, desktops_hub)
    assert issues.async_get_issue(DOMAIN, ISSUE_TOKEN_REFUSED) is None
    unreachable = issues.async_get_issue(DOMAIN, ISSUE_UNREACHABLE)
    assert unreachable is not None
    assert not unreachable.is_fixable


async def test_the_fix_flow_ends_when_desktops_were_turned_off(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    desktops_hub: MockConfigEntry,
    service: DesktopsServiceProcess,
) -> None:
    await change_service_token(service, NEW_TOKEN)
    await refresh(hass, desktops_hub)
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_TOKEN_REFUSED) is not None
    hass.config_entries.async_update_entry(
        desktops_hub, options={**desktops_hub.options, CONF_DESKTOPS_URL: ""}
    )
    await hass.async_block_till_done()
    # Turning desktops off clears the issue; a fix flow opened before that aborts.
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_TOKEN_REFUSED) is None
    ir.async_create_issue(
        hass, DOMAIN, ISSUE_TOKEN_REFUSED, is_fixable=True,
        severity=ir.IssueSeverity.ERROR, translation_key=ISSUE_TOKEN_REFUSED,
        data={"entry_id": desktops_hub.entry_id},
    )  # fmt: skip
    (answer,) = await fix(hass, hass_client)
    assert answer["type"] == "abort"
    assert answer["reason"] == "desktops_not_configured"


async def test_an_issue_without_a_fix_flow_is_refused_by_name(hass: HomeAssistant) -> None:
    with pytest.raises(ValueError, match="no fix flow for the repair issue desktops_unreachable"):
        await async_create_fix_flow(hass, ISSUE_UNREACHABLE, None)
