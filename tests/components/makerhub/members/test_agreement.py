"""The space's agreement: signing (own, for others), storage, re-signing after a change
of its text, the per-person sensor, and the new-project wizard, action, REST and
WebSocket refusing a project until its owner signed."""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.models import User
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Context, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.makerhub.const import (
    CONF_AGREEMENT_TEXT,
    CONF_PROJECT_LICENCE,
    CONF_TODOIST_INTERVAL,
    DOMAIN,
    SUBENTRY_PROJECT,
)
from custom_components.makerhub.core.agreement import DEFAULT_AGREEMENT, agreement_version
from custom_components.makerhub.data import makerhub_data
from custom_components.makerhub.members.agreement import MemberAgreements

from .conftest import ALICE, BOB, no_person_token

SENSOR = "binary_sensor.makerhub_alice_agreement_signed"
STORAGE = "makerhub.agreements"


async def sign(hass: HomeAssistant, user: User | None, **data: Any) -> dict[str, Any]:
    """Call the action as ``user`` (None: an automation); return its answer."""
    response = await hass.services.async_call(
        DOMAIN,
        "sign_agreement",
        data,
        blocking=True,
        return_response=True,
        context=Context(user_id=None if user is None else user.id),
    )
    await hass.async_block_till_done()
    assert response is not None
    return dict(response)


async def refused(hass: HomeAssistant, user: User | None, **data: Any) -> str:
    """Call the action expecting a refusal; return its translation key."""
    with pytest.raises(ServiceValidationError) as err:
        await sign(hass, user, **data)
    assert err.value.translation_key is not None
    return err.value.translation_key


async def test_sign_own_and_for_others(
    hass: HomeAssistant,
    members: MockConfigEntry,
    hass_admin_user: User,
    hass_read_only_user: User,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    hass_client: ClientSessionGenerator,
) -> None:
    """A member signs for themself; an admin records it for another; nobody else may; the
    signature is saved before the action answers."""
    now = dt_util.utcnow().isoformat()  # frozen (a moved clock would expire the client's token)
    assert hass.states.get(SENSOR).state == "off"
    assert hass.states.get(SENSOR).attributes["signed_at"] is None
    assert hass.states.get(SENSOR).attributes["version"] == agreement_version(DEFAULT_AGREEMENT)

    answer = await sign(hass, hass_read_only_user)  # Bob signs for himself
    assert answer["person"] == BOB
    assert answer["signed"] is True
    assert answer["signed_at"] == now
    # Saved at once (not after a delay): what a kill -9 right after the answer keeps.
    stored = hass_storage[STORAGE]["data"]["people"][BOB]
    assert stored == {
        "version": agreement_version(DEFAULT_AGREEMENT),
        "signed_at": now,
        "recorded_by": None,
    }

    assert await refused(hass, hass_read_only_user, person=ALICE) == "not_your_person"
    assert hass.states.get(SENSOR).state == "off"
    assert await refused(hass, None) == "agreement_person"  # an automation must say who
    assert await refused(hass, hass_admin_user, person="person.nobody") == "unknown_person"

    answer = await sign(hass, hass_admin_user, person=BOB)  # an admin records it for Bob
    assert hass_storage[STORAGE]["data"]["people"][BOB]["recorded_by"] == hass_admin_user.id
    answer = await sign(hass, None, person=ALICE)  # an automation, for Alice
    assert answer["person"] == ALICE
    state = hass.states.get(SENSOR)
    assert state.state == "on"
    assert state.attributes["signed_at"] == now
    assert state.attributes["signed_version"] == agreement_version(DEFAULT_AGREEMENT)

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, members)
    assert diagnostics["members"] == {
        "agreement_version": agreement_version(DEFAULT_AGREEMENT),
        "default_text": True,
        "acceptances": {
            ALICE: {
                "version": agreement_version(DEFAULT_AGREEMENT),
                "signed_at": now,
                "recorded_by": None,
            },
            BOB: {
                "version": agreement_version(DEFAULT_AGREEMENT),
                "signed_at": now,
                "recorded_by": hass_admin_user.id,
            },
        },
        "dropped_at_load": 0,
    }


async def test_stored_signatures_survive_a_restart_and_bad_ones_are_dropped(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    members: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """What was saved is what a new process loads; a malformed entry is logged, dropped
    and counted, the others kept."""
    await makerhub_data(hass).agreements.async_sign(ALICE)
    hass_storage[STORAGE]["data"]["people"]["person.carol"] = {"version": 5}
    reloaded = await MemberAgreements.async_load(hass)
    assert reloaded.status(ALICE).signed
    assert reloaded.dropped == 1
    assert "Stored agreement acceptance dropped: person.carol: no version" in caplog.text


async def set_agreement(hass: HomeAssistant, entry: MockConfigEntry, text: str) -> dict[str, Any]:
    """Change the agreement in the projects options; return the result."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "projects"}
    )
    assert result["step_id"] == "projects"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_PROJECT_LICENCE: "mit",
            CONF_TODOIST_INTERVAL: 15,
            CONF_AGREEMENT_TEXT: text,
            "monthly_budget": 500,
        },
    )
    await hass.async_block_till_done()
    return dict(result)


async def test_a_material_change_asks_to_sign_again(
    hass: HomeAssistant,
    members: MockConfigEntry,
    hass_admin_user: User,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Changing words asks everyone to sign again; spacing and case do not; the options
    form shows the text in force and refuses one too long."""
    await sign(hass, hass_admin_user)
    assert hass.states.get(SENSOR).state == "on"
    ws = await hass_ws_client(hass)

    result = await hass.config_entries.options.async_init(members.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "projects"}
    )
    schema = result["data_schema"].schema
    suggested = {str(k): k.description.get("suggested_value") for k in schema if k.description}
    assert suggested[CONF_AGREEMENT_TEXT] == DEFAULT_AGREEMENT

    too_long = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_PROJECT_LICENCE: "mit", CONF_TODOIST_INTERVAL: 15, CONF_AGREEMENT_TEXT: "x" * 20_001},
    )
    assert too_long["errors"] == {CONF_AGREEMENT_TEXT: "invalid_agreement"}

    assert (await set_agreement(hass, members, "  " + DEFAULT_AGREEMENT.upper() + "\n"))[
        "type"
    ] is FlowResultType.CREATE_ENTRY
    assert members.options[CONF_AGREEMENT_TEXT].startswith("WELCOME")
    assert members.state is ConfigEntryState.LOADED
    assert hass.states.get(SENSOR).state == "on"  # the same words: still signed

    new_text = "All projects made here are open source. You keep the IP you bring. No food."
    await set_agreement(hass, members, new_text)
    state = hass.states.get(SENSOR)
    assert state.state == "off"
    assert state.attributes["version"] == agreement_version(new_text)
    await ws.send_json_auto_id({"type": "makerhub/agreement"})
    answer = (await ws.receive_json())["result"]
    assert answer["text"] == new_text
    assert answer["default"] is False
    assert answer["needs_signing"] is True
    assert answer["resign"] is True

    await sign(hass, hass_admin_user)
    assert hass.states.get(SENSOR).state == "on"

    await set_agreement(hass, members, "")  # emptied: the default again, not stored
    assert members.options[CONF_AGREEMENT_TEXT] == ""
    await ws.send_json_auto_id({"type": "makerhub/agreement"})
    answer = (await ws.receive_json())["result"]
    assert answer["default"] is True
    assert answer["text"] == DEFAULT_AGREEMENT


async def test_agreement_command_reads_own_or_as_admin(
    hass: HomeAssistant,
    members: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
    hass_read_only_user: User,
    hass_admin_user: User,
) -> None:
    """A member reads their own status; only an admin reads someone else's."""
    await sign(hass, hass_read_only_user)
    bob = await hass_ws_client(hass, hass_read_only_access_token)
    await bob.send_json_auto_id({"type": "makerhub/agreement"})
    answer = (await bob.receive_json())["result"]
    assert answer["person"] == BOB
    assert answer["signed"] is True
    assert answer["text"] == DEFAULT_AGREEMENT
    await bob.send_json_auto_id({"type": "makerhub/agreement", "person": ALICE})
    assert (await bob.receive_json())["error"]["code"] == "unauthorized"

    admin = await hass_ws_client(hass)
    await admin.send_json_auto_id({"type": "makerhub/agreement", "person": BOB})
    assert (await admin.receive_json())["result"]["signed"] is True
    await admin.send_json_auto_id({"type": "makerhub/agreement"})
    assert (await admin.receive_json())["result"]["person"] == ALICE


async def test_commands_need_a_person(
    hass: HomeAssistant, members: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """A user linked to no person is no member: both commands say so."""
    ws = await hass_ws_client(hass, await no_person_token(hass))
    for command in ("makerhub/agreement", "makerhub/me"):
        await ws.send_json_auto_id({"type": command})
        error = (await ws.receive_json())["error"]
        assert error["code"] == "not_found"
        assert "linked to no person" in error["message"]


async def test_new_projects_wait_for_the_owners_signature(
    hass: HomeAssistant,
    members: MockConfigEntry,
    hass_admin_user: User,
    hass_read_only_user: User,
    hass_client: ClientSessionGenerator,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    """The wizard, the action, REST and WebSocket refuse a project whose owner has not
    signed, saying why; once signed, each creates it. A project for Bob needs Bob's
    signature even when the admin creates it; an owner who is no person is not asked."""
    projects = makerhub_data(hass).projects

    # The wizard: the owner field says why.
    flow = await hass.config_entries.subentries.async_init(
        (members.entry_id, SUBENTRY_PROJECT), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        flow["flow_id"], {"name": "Robot arm", "owner": ALICE}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {"owner": "agreement_not_signed"}
    assert result["description_placeholders"]["person"] == "Alice"

    # The action.
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "create_project",
            {"name": "Clock"},
            blocking=True,
            return_response=True,
            context=Context(user_id=hass_admin_user.id),
        )
    assert err.value.translation_key == "agreement_not_signed"
    assert err.value.translation_placeholders == {"person": "Alice"}
    assert "Alice has not signed the space's agreement" in str(err.value)

    # REST and WebSocket.
    client = await hass_client()
    response = await client.post("/api/makerhub/projects", json={"name": "Lamp"})
    assert response.status == 403
    assert "person.alice has not signed the space's agreement" in (await response.json())["message"]
    bob = await hass_ws_client(hass, hass_read_only_access_token)
    await bob.send_json_auto_id({"type": "makerhub/projects/create", "project": {"name": "Bob's"}})
    error = (await bob.receive_json())["error"]
    assert error["code"] == "unauthorized"
    assert "person.bob has not signed" in error["message"]
    assert projects.registry.find() == []

    await sign(hass, hass_admin_user)  # Alice signs
    result = await hass.config_entries.subentries.async_configure(
        flow["flow_id"], {"name": "Robot arm", "owner": ALICE}
    )
    assert result["step_id"] == "space"
    response = await client.post("/api/makerhub/projects", json={"name": "Lamp"})
    assert response.status == 201
    # The admin creating a project for Bob: Bob has not signed.
    response = await client.post(
        "/api/makerhub/projects", json={"name": "For Bob", "owner": hass_read_only_user.id}
    )
    assert response.status == 403
    await sign(hass, hass_read_only_user)
    await bob.send_json_auto_id({"type": "makerhub/projects/create", "project": {"name": "Bob's"}})
    assert (await bob.receive_json())["success"]

    # An owner linked to no person (an admin's service account) is not asked.
    kiosk = MockUser(name="Kiosk").add_to_hass(hass)
    created = await hass.services.async_call(
        DOMAIN,
        "create_project",
        {"name": "Shared", "owner": kiosk.id},
        blocking=True,
        return_response=True,
    )
    assert created is not None
    assert sorted(p.name for p in projects.registry.find()) == ["Bob's", "Lamp", "Shared"]
