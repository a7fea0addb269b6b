"""A refused recorder token: a fixable repair issue whose fix flow takes a new token,
checks it with the real service, stores it sealed, and the hub polls with it again."""

from __future__ import annotations

from typing import Any

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerhub.cameras.manager import (
    CONF_RECORDER_TOKEN,
    CONF_RECORDER_URL,
    ISSUE_TOKEN_REFUSED,
    ISSUE_UNREACHABLE,
)
from custom_components.makerhub.const import DOMAIN
from custom_components.makerhub.secrets import (
    CONTEXT_RECORDER_TOKEN,
    async_get_secret_box,
    open_text_or_none,
)
from dev.processes.recorder_process import RecorderServiceProcess
from tests.helpers.recorder_service import TOKEN

from .conftest import STATUS, refresh

NEW_TOKEN = "the-new-recorder-token-42"


def change_service_token(service: RecorderServiceProcess, token: str) -> None:
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
    cameras_hub: MockConfigEntry,
    service: RecorderServiceProcess,
) -> None:
    issues = ir.async_get(hass)
    change_service_token(service, NEW_TOKEN)
    await refresh(hass, cameras_hub)
    issue = issues.async_get_issue(DOMAIN, ISSUE_TOKEN_REFUSED)
    assert issue is not None
    assert issue.is_fixable
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["url"] == service.url
    assert issues.async_get_issue(DOMAIN, ISSUE_UNREACHABLE) is None
    assert hass.states.get(STATUS).state == STATE_UNAVAILABLE

    form, wrong, right = await fix(
        hass,
        hass_client,
        {CONF_RECORDER_TOKEN: TOKEN},  # the old one: refused again
        {CONF_RECORDER_TOKEN: f" {NEW_TOKEN} "},
    )
    assert form["type"] == "form"
    assert form["step_id"] == "init"
    assert form["description_placeholders"]["url"] == service.url
    assert wrong["type"] == "form"
    assert wrong["errors"] == {"base": "recorder_auth"}
    assert right["type"] == "create_entry"

    sealed = cameras_hub.options[CONF_RECORDER_TOKEN]
    assert NEW_TOKEN not in str(cameras_hub.options)
    box = await async_get_secret_box(hass)
    assert open_text_or_none(box, sealed, CONTEXT_RECORDER_TOKEN) == NEW_TOKEN
    assert cameras_hub.options[CONF_RECORDER_URL] == service.url
    # The hub reloaded with the new token: its poll works, the issue is gone.
    assert issues.async_get_issue(DOMAIN, ISSUE_TOKEN_REFUSED) is None
    assert hass.states.get(STATUS).state != STATE_UNAVAILABLE
    assert cameras_hub.runtime_data.cameras.available


async def test_a_service_gone_is_said_in_the_fix_flow_and_is_the_other_issue(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    cameras_hub: MockConfigEntry,
    service: RecorderServiceProcess,
) -> None:
    issues = ir.async_get(hass)
    change_service_token(service, NEW_TOKEN)
    await refresh(hass, cameras_hub)
    stored = cameras_hub.options[CONF_RECORDER_TOKEN]
    service.stop()
    _, answer = await fix(hass, hass_client, {CONF_RECORDER_TOKEN: NEW_TOKEN})
    assert answer["type"] == "form"
    assert answer["errors"] == {"base": "recorder_unreachable"}
    assert "cannot be reached" in answer["description_placeholders"]["error"]
    assert cameras_hub.options[CONF_RECORDER_TOKEN] == stored

    # A service gone altogether is the other issue (not fixable by a token); one at a time.
    await refresh(hass, cameras_hub)
    assert issues.async_get_issue(DOMAIN, ISSUE_TOKEN_REFUSED) is None
    unreachable = issues.async_get_issue(DOMAIN, ISSUE_UNREACHABLE)
    assert unreachable is not None
    assert not unreachable.is_fixable

    # Turning the cameras off clears both; a fix flow opened after that aborts.
    hass.config_entries.async_update_entry(
        cameras_hub, options={**cameras_hub.options, CONF_RECORDER_URL: ""}
    )
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, ISSUE_UNREACHABLE) is None
    ir.async_create_issue(
        hass, DOMAIN, ISSUE_TOKEN_REFUSED, is_fixable=True,
        severity=ir.IssueSeverity.ERROR, translation_key=ISSUE_TOKEN_REFUSED,
        data={"entry_id": cameras_hub.entry_id},
    )  # fmt: skip
    (aborted,) = await fix(hass, hass_client)
    assert aborted["type"] == "abort"
    assert aborted["reason"] == "recorder_not_configured"
