"""Links in Home Assistant: the subentry flow, the actions, schema.json for the target,
visibility and ownership, deletion with a unit; and each unit's env.json over HTTP."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.auth.models import User
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import Context, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    MqttMockHAClient,
)
import voluptuous as vol

from custom_components.makerhub.const import DOMAIN, SUBENTRY_LINK, SUBENTRY_UNIT
from tests.components.makerhub.conftest import UID, bring_online, unit_subentry

FAN = "ba9876543210"
LINK_ID = f"{UID}.temperature>{FAN}.target"


@pytest.fixture
def hub_subentries() -> list[ConfigSubentryData]:
    """Two units: Bench and Fan (same schema)."""
    return [unit_subentry(), unit_subentry(FAN, "Fan", announce_id="fan-1")]


def published(mqtt_mock: MqttMockHAClient, topic: str) -> list[str]:
    """Return the payloads published on a topic, oldest first."""
    return [c.args[1] for c in mqtt_mock.async_publish.call_args_list if c.args[0] == topic]


def stored_links(entry: MockConfigEntry) -> list[str]:
    """Return the ids of the links stored in the hub, sorted."""
    return sorted(
        s.unique_id or "" for s in entry.subentries.values() if s.subentry_type == SUBENTRY_LINK
    )


async def add_link(hass: HomeAssistant, entry: MockConfigEntry, **data: Any) -> dict[str, Any]:
    """Run the link subentry flow; return its result."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_LINK), context={"source": "user"}
    )
    assert result["step_id"] == "user"
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], data)
    await hass.async_block_till_done()
    return result


async def test_link_flow_schema_and_attributes(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, hub: MockConfigEntry
) -> None:
    """A link from the UI: the target's schema.json lists the source's out topic (with the
    transform), it gets schema_update, and the input shows where it is fed from."""
    await bring_online(hass, FAN)
    mqtt_mock.async_publish.reset_mock()
    result = await add_link(
        hass,
        hub,
        source="sensor.bench_temperature",
        target="number.fan_target",
        scale=0.5,
        maximum=25,
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Bench temperature → Fan target"
    schema = json.loads(published(mqtt_mock, f"makerhub/{FAN}/sys/schema")[-1])
    assert schema["inputs"]["target"] == [
        f"makerhub/{FAN}/in/target",
        f"makerhub/{UID}/out/temperature",
    ]
    assert schema["transforms"] == {
        "target": {f"makerhub/{UID}/out/temperature": {"scale": 0.5, "max": 25.0}}
    }
    commands = [json.loads(p)["cmd"] for p in published(mqtt_mock, f"makerhub/{FAN}/sys/cmd")]
    assert commands == ["schema_update"]
    assert published(mqtt_mock, f"makerhub/{UID}/sys/schema") == []  # the source is unchanged
    attributes = hass.states.get("number.fan_target").attributes
    assert attributes["linked_from"] == [
        {"link": LINK_ID, "unit": "Bench", "output": "temperature", "scale": 0.5, "max": 25.0}
    ]
    assert LINK_ID in hub.runtime_data.hub.links.sources_of(FAN)["target"][0].id

    # Deleting the link's subentry puts the schema back.
    subentry_id = next(
        s.subentry_id for s in hub.subentries.values() if s.subentry_type == SUBENTRY_LINK
    )
    hass.config_entries.async_remove_subentry(hub, subentry_id)
    await hass.async_block_till_done()
    schema = json.loads(published(mqtt_mock, f"makerhub/{FAN}/sys/schema")[-1])
    assert schema["inputs"]["target"] == [f"makerhub/{FAN}/in/target"]
    assert "transforms" not in schema
    assert "linked_from" not in hass.states.get("number.fan_target").attributes


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"source": "sensor.bench_temperature", "target": "switch.fan_relay"},
            "cannot feed a bool input",
        ),
        (
            {"source": "sensor.bench_temperature", "target": "number.bench_target"},
            "a unit cannot feed its own input",
        ),
        (
            {"source": "sensor.bench_ip_address", "target": "number.fan_target"},
            "does not show a unit's output",
        ),
        (
            {"source": "binary_sensor.bench_door", "target": "switch.fan_relay", "scale": 2},
            "only a number output",
        ),
        (
            {"source": "sensor.bench_temperature", "target": "number.lathe_target"},
            "number.lathe_target does not show a unit's input",
        ),
    ],
)
async def test_link_flow_refuses(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
    data: dict[str, Any],
    message: str,
) -> None:
    """Type mismatches, self-links, wrong entities, transforms on non-numbers: a clear
    error, nothing stored."""
    result = await add_link(hass, hub, **data)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_link"}
    assert message in result["description_placeholders"]["error"]
    assert not [s for s in hub.subentries.values() if s.subentry_type == SUBENTRY_LINK]


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
        {"source": "sensor.bench_count", "target": "number.fan_level"},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    assert response["link"] == f"{UID}.count>{FAN}.level"
    with pytest.raises(ServiceValidationError, match="already exists"):
        await hass.services.async_call(
            DOMAIN,
            "link",
            {"source": "sensor.bench_count", "target": "number.fan_level"},
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
            {"source": "sensor.bench_count", "target": "number.fan_level"},
            blocking=True,
            return_response=True,
        )

    # A non-admin user may not link to a unit that is not theirs.
    bob = await hass.auth.async_create_user("Bob", group_ids=["system-users"])
    with pytest.raises(ServiceValidationError, match="your own units"):
        await hass.services.async_call(
            DOMAIN,
            "link",
            {"source": "sensor.fan_count", "target": "number.bench_level"},
            blocking=True,
            return_response=True,
            context=Context(user_id=bob.id),
        )
    with pytest.raises(ServiceValidationError, match="no link"):
        await hass.services.async_call(
            DOMAIN,
            "unlink",
            {"source": "sensor.fan_count", "target": "number.bench_level"},
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
        "link", {"source": "sensor.fan_count", "target": "number.bench_level"}, as_admin
    )
    assert response["link"] == f"{FAN}.count>{UID}.level"
    response = await call(
        "link", {"source": "sensor.bench_count", "target": "number.fan_level"}, as_bob
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
            {"source": "sensor.bench_temperature", "target": "sensor.fan_temperature"},
            as_admin,
        )
    with pytest.raises(vol.Invalid, match="give the link's id, or its source and target"):
        await call("unlink", {"source": "sensor.bench_count"}, as_admin)
    await hass.async_block_till_done()
    assert stored_links(hub) == [f"{FAN}.count>{UID}.level"]


async def test_links_need_the_hub(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, hub: MockConfigEntry
) -> None:
    """With the hub not running, the link flow stops at once and the actions say why."""
    assert await hass.config_entries.async_unload(hub.entry_id)
    result = await hass.config_entries.subentries.async_init(
        (hub.entry_id, SUBENTRY_LINK), context={"source": "user"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "hub_not_loaded"
    for action, data in (
        ("link", {"source": "sensor.bench_count", "target": "number.fan_level"}),
        ("unlink", {"link": f"{UID}.count>{FAN}.level"}),
    ):
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(DOMAIN, action, data, blocking=True)
        assert err.value.translation_key == "hub_not_loaded"


async def test_deleting_a_unit_deletes_its_links(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
) -> None:
    """The links of a deleted unit go, and the units they fed get their schema back."""
    await hass.services.async_call(
        DOMAIN,
        "link",
        {"source": "sensor.fan_temperature", "target": "number.bench_target"},
        blocking=True,
        return_response=True,
    )
    await hass.async_block_till_done()
    mqtt_mock.async_publish.reset_mock()
    device = dr.async_get(hass).async_get_device({(DOMAIN, FAN)})
    assert device is not None
    fan = next(s for s in hub.subentries.values() if s.unique_id == FAN)
    hass.config_entries.async_remove_subentry(hub, fan.subentry_id)
    await hass.async_block_till_done()
    assert not [s for s in hub.subentries.values() if s.subentry_type == SUBENTRY_LINK]
    schema = json.loads(published(mqtt_mock, f"makerhub/{UID}/sys/schema")[-1])
    assert schema["inputs"]["target"] == [f"makerhub/{UID}/in/target"]


async def test_unit_env_json(
    hass: HomeAssistant,
    entity_registry_enabled_by_default: None,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    hass_read_only_user: User,
    hass_read_only_access_token: str,
) -> None:
    """Admins read a unit's env.json (its own broker user) and schema.json."""
    await hass.async_block_till_done(wait_background_tasks=True)
    client = await hass_client()
    response = await client.get(f"/api/makerhub/units/{UID}/env.json")
    assert response.status == 200
    env = await response.json()
    assert env["MH_UNIT_ID"] == UID
    assert env["MH_MQTT_HOST"] == "192.168.1.2"
    assert env["MH_MQTT_USERNAME"] == f"mh-{UID}"
    assert len(env["MH_MQTT_PASSWORD"]) >= 32
    other = await (await client.get(f"/api/makerhub/units/{FAN}/env.json")).json()
    assert other["MH_MQTT_PASSWORD"] != env["MH_MQTT_PASSWORD"]
    schema = await (await client.get(f"/api/makerhub/units/{UID}/schema.json")).json()
    assert schema["unit"] == UID
    assert (await client.get("/api/makerhub/units/nope/env.json")).status == 404
    assert (await client.get(f"/api/makerhub/units/{UID}/secrets")).status == 404
    reader = await hass_client(hass_read_only_access_token)
    assert (await reader.get(f"/api/makerhub/units/{UID}/env.json")).status == 403

    # The rotate button gives the unit a new password.
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.bench_rotate_broker_password"}, blocking=True
    )
    again = await (await client.get(f"/api/makerhub/units/{UID}/env.json")).json()
    assert again["MH_MQTT_PASSWORD"] != env["MH_MQTT_PASSWORD"]
