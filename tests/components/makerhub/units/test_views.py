"""The unit file endpoints: a unit's env.json and schema.json over HTTP."""

from __future__ import annotations

from homeassistant.auth.models import User
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, MqttMockHAClient

from tests.components.makerhub.conftest import UID, unit_entity_id, unit_subentry
from tests.components.makerhub.links.conftest import FAN


@pytest.fixture
def hub_subentries() -> list[ConfigSubentryData]:
    """Two units: Bench and Fan (same schema)."""
    return [unit_subentry(), unit_subentry(FAN, "Fan", announce_id="fan-1")]


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
        "button",
        "press",
        {"entity_id": unit_entity_id(hass, UID, ("sys", "rotate_password"))},
        blocking=True,
    )
    again = await (await client.get(f"/api/makerhub/units/{UID}/env.json")).json()
    assert again["MH_MQTT_PASSWORD"] != env["MH_MQTT_PASSWORD"]
