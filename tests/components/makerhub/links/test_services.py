"""The link and unlink actions: who may call them, what each sees and owns."""

from __future__ import annotations

from typing import Any

from homeassistant.auth.models import User
from homeassistant.core import Context, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MqttMockHAClient
import voluptuous as vol

from custom_components.makerhub.const import DOMAIN, SUBENTRY_UNIT
from tests.components.makerhub.conftest import UID, unit_entity_id
from tests.components.makerhub.links.conftest import FAN, stored_links


async def test_link_actions_visibility_and_ownership(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
    hass_admin_user: User,
) -> None:
    """makerhub.link / unlink; a private source only feeds units of its owner; a
    non-admin may only link to their own units; visibility changes that would break links
    are refused."""
    assert await async_setup_component(
        hass,
        "person",
        {"person": [{"id": "alice", "name": "Alice", "user_id": hass_admin_user.id}]},
    )
    response = await hass.services.async_call(
        DOMAIN,
        "link",
        {
            "source": unit_entity_id(hass, UID, ("out", "count")),
            "target": unit_entity_id(hass, FAN, ("in", "level")),
        },
        blocking=True,
        return_response=True,
    )
    assert response is not None
    assert response["link"] == f"{UID}.count>{FAN}.level"
    with pytest.raises(ServiceValidationError, match="already exists"):
        await hass.services.async_call(
            DOMAIN,
            "link",
            {
                "source": unit_entity_id(hass, UID, ("out", "count")),
                "target": unit_entity_id(hass, FAN, ("in", "level")),
            },
            blocking=True,
            return_response=True,
        )

    # Making Bench private (owned by the admin) would break the link to Fan (no owner).
    bench = next(s for s in hub.subentries.values() if s.unique_id == UID)
    result = await hub.start_subentry_reconfigure_flow(hass, SUBENTRY_UNIT, bench.subentry_id)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"name": "Bench", "visibility": "private", "owner": hass_admin_user.id},
    )
    assert result["errors"] == {"base": "links_refused"}
    assert "private" in result["description_placeholders"]["error"]

    await hass.services.async_call(
        DOMAIN, "unlink", {"link": f"{UID}.count>{FAN}.level"}, blocking=True
    )
    await hass.async_block_till_done()
    result = await hub.start_subentry_reconfigure_flow(hass, SUBENTRY_UNIT, bench.subentry_id)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"name": "Bench", "visibility": "private", "owner": hass_admin_user.id},
    )
    assert result["type"] is FlowResultType.ABORT
    result = await hub.start_subentry_reconfigure_flow(hass, SUBENTRY_UNIT, bench.subentry_id)
    suggested = {str(key): key.description for key in result["data_schema"].schema}
    assert suggested["owner"] == {"suggested_value": hass_admin_user.id}
    with pytest.raises(ServiceValidationError, match="private"):
        await hass.services.async_call(
            DOMAIN,
            "link",
            {
                "source": unit_entity_id(hass, UID, ("out", "count")),
                "target": unit_entity_id(hass, FAN, ("in", "level")),
            },
            blocking=True,
            return_response=True,
        )

    # A non-admin user may not link to a unit that is not theirs.
    bob = await hass.auth.async_create_user("Bob", group_ids=["system-users"])
    with pytest.raises(ServiceValidationError, match="your own units"):
        await hass.services.async_call(
            DOMAIN,
            "link",
            {
                "source": unit_entity_id(hass, FAN, ("out", "count")),
                "target": unit_entity_id(hass, UID, ("in", "level")),
            },
            blocking=True,
            return_response=True,
            context=Context(user_id=bob.id),
        )
    with pytest.raises(ServiceValidationError, match="no link"):
        await hass.services.async_call(
            DOMAIN,
            "unlink",
            {
                "source": unit_entity_id(hass, FAN, ("out", "count")),
                "target": unit_entity_id(hass, UID, ("in", "level")),
            },
            blocking=True,
        )


async def test_link_actions_by_admins_and_owners(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
    hass_admin_user: User,
) -> None:
    """An admin links to any unit's input; a non-admin links to, and unlinks from, the
    inputs of their own unit; an output is no input, and an unlink naming neither a link
    nor an output and input is refused."""
    bob = await hass.auth.async_create_user("Bob", group_ids=["system-users"])
    assert await async_setup_component(
        hass, "person", {"person": [{"id": "bob", "name": "Bob", "user_id": bob.id}]}
    )
    fan = next(s for s in hub.subentries.values() if s.unique_id == FAN)
    result = await hub.start_subentry_reconfigure_flow(hass, SUBENTRY_UNIT, fan.subentry_id)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": "Fan", "owner": bob.id}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    as_admin = Context(user_id=hass_admin_user.id)
    as_bob = Context(user_id=bob.id)

    async def call(action: str, data: dict[str, Any], context: Context) -> Any:
        return await hass.services.async_call(
            DOMAIN, action, data, blocking=True, return_response=True, context=context
        )

    response = await call(
        "link",
        {
            "source": unit_entity_id(hass, FAN, ("out", "count")),
            "target": unit_entity_id(hass, UID, ("in", "level")),
        },
        as_admin,
    )
    assert response["link"] == f"{FAN}.count>{UID}.level"
    response = await call(
        "link",
        {
            "source": unit_entity_id(hass, UID, ("out", "count")),
            "target": unit_entity_id(hass, FAN, ("in", "level")),
        },
        as_bob,
    )
    assert response["link"] == f"{UID}.count>{FAN}.level"
    await hass.async_block_till_done()
    assert stored_links(hub) == [f"{UID}.count>{FAN}.level", f"{FAN}.count>{UID}.level"]
    with pytest.raises(ServiceValidationError, match="your own units"):
        await call("unlink", {"link": f"{FAN}.count>{UID}.level"}, as_bob)
    response = await call("unlink", {"link": f"{UID}.count>{FAN}.level"}, as_bob)
    assert response == {"link": f"{UID}.count>{FAN}.level"}
    await hass.async_block_till_done()
    assert stored_links(hub) == [f"{FAN}.count>{UID}.level"]

    with pytest.raises(ServiceValidationError, match=r"sensor\.fan_temperature does not show"):
        await call(
            "link",
            {
                "source": unit_entity_id(hass, UID, ("out", "temperature")),
                "target": unit_entity_id(hass, FAN, ("out", "temperature")),
            },
            as_admin,
        )
    with pytest.raises(vol.Invalid, match="give the link's id, or its source and target"):
        await call("unlink", {"source": unit_entity_id(hass, UID, ("out", "count"))}, as_admin)
    await hass.async_block_till_done()
    assert stored_links(hub) == [f"{FAN}.count>{UID}.level"]
