"""``makerhub/fleet_graph``: units with their variables' entities, owners, areas and
links, in a stable order; an error while no hub is loaded."""

from __future__ import annotations

from homeassistant.auth.models import User
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.helpers import area_registry as ar, device_registry as dr
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.makerhub.const import DATA_OWNER, DATA_VISIBILITY, DOMAIN
from tests.components.makerhub.conftest import UID, bring_online, unit_entity_id, unit_subentry

FAN = "ba9876543210"


@pytest.fixture
def hub_subentries() -> list[ConfigSubentryData]:
    """Bench (public) and Fan (private, owned by a user set in the test)."""
    fan = unit_subentry(FAN, "Fan", announce_id="fan-1")
    fan["data"] = {**fan["data"], DATA_VISIBILITY: "private", DATA_OWNER: "owner-id"}
    return [unit_subentry(), fan]


async def test_fleet_graph(
    hass: HomeAssistant,
    hub: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_admin_user: User,
) -> None:
    """Units by name with every variable's entity, the links with their transforms."""
    await bring_online(hass, UID, "2.1.0")
    kitchen = ar.async_get(hass).async_create("Workshop")
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, UID)})
    assert device is not None
    dr.async_get(hass).async_update_device(device.id, area_id=kitchen.id)
    await hass.services.async_call(
        DOMAIN,
        "link",
        {
            "source": unit_entity_id(hass, UID, ("out", "temperature")),
            "target": unit_entity_id(hass, FAN, ("in", "target")),
            "scale": 2,
            "minimum": 5,
        },
        blocking=True,
    )
    await hass.async_block_till_done()

    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "makerhub/fleet_graph"})
    answer = await client.receive_json()
    assert answer["success"], answer
    graph = answer["result"]
    assert [unit["name"] for unit in graph["units"]] == ["Bench", "Fan"]
    bench, fan = graph["units"]
    assert bench["uid"] == UID
    assert bench["available"] is True
    assert bench["version"] == "2.1.0"
    assert bench["area_id"] == kitchen.id
    assert bench["device_id"] == device.id
    assert bench["owner"] is None
    assert bench["visibility"] == "public"
    assert bench["repository"] is None
    assert bench["entities"]["connectivity"] == unit_entity_id(hass, UID, ("sys", "connectivity"))
    assert bench["entities"]["firmware"] is None  # not made from a repository
    temperature = next(v for v in bench["outputs"] if v["name"] == "temperature")
    assert temperature == {
        "name": "temperature",
        "type": "float",
        "unit": "°C",
        "entity_id": unit_entity_id(hass, UID, ("out", "temperature")),
    }
    preset = next(v for v in bench["inputs"] if v["name"] == "preset")
    assert preset["options"] == ["eco", "comfort"]
    assert preset["entity_id"] == unit_entity_id(hass, UID, ("in", "preset"))
    assert [v["name"] for v in bench["inputs"]] == ["target", "relay", "preset", "label", "level"]
    assert fan["available"] is False
    assert fan["visibility"] == "private"
    assert fan["owner"] == "owner-id"
    assert fan["owner_name"] is None  # no such user
    assert graph["links"] == [
        {
            "id": f"{UID}.temperature>{FAN}.target",
            "title": "Bench temperature → Fan target",
            "source": UID,
            "output": "temperature",
            "target": FAN,
            "input": "target",
            "transform": {"scale": 2.0, "min": 5.0},
        }
    ]


async def test_fleet_graph_names_owners(
    hass: HomeAssistant,
    hub: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_admin_user: User,
) -> None:
    """An owner is named by their user's name."""
    fan = next(s for s in hub.subentries.values() if s.unique_id == FAN)
    hass.config_entries.async_update_subentry(
        hub, fan, data={**fan.data, DATA_OWNER: hass_admin_user.id}
    )
    await hass.async_block_till_done()
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "makerhub/fleet_graph"})
    answer = await client.receive_json()
    fan_json = answer["result"]["units"][1]
    assert fan_json["owner"] == hass_admin_user.id
    assert fan_json["owner_name"] == hass_admin_user.name


async def test_fleet_graph_without_a_hub(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator
) -> None:
    """Before a hub is loaded the command says so."""
    assert await async_setup_component(hass, DOMAIN, {})
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "makerhub/fleet_graph"})
    answer = await client.receive_json()
    assert not answer["success"]
    assert answer["error"]["code"] == "hub_not_loaded"
