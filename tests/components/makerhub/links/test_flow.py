"""The link subentry flow: schema.json for the target, the input's attributes, refusals,
and the hub not running."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.makerhub.const import DOMAIN, SUBENTRY_LINK
from tests.components.makerhub.conftest import UID, bring_online, unit_entity_id
from tests.components.makerhub.links.conftest import FAN, LINK_ID, add_link, published


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
        source=unit_entity_id(hass, UID, ("out", "temperature")),
        target=unit_entity_id(hass, FAN, ("in", "target")),
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
    attributes = hass.states.get(unit_entity_id(hass, FAN, ("in", "target"))).attributes
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
    assert (
        "linked_from" not in hass.states.get(unit_entity_id(hass, FAN, ("in", "target"))).attributes
    )


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
        (
            "link",
            {
                "source": unit_entity_id(hass, UID, ("out", "count")),
                "target": unit_entity_id(hass, FAN, ("in", "level")),
            },
        ),
        ("unlink", {"link": f"{UID}.count>{FAN}.level"}),
    ):
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(DOMAIN, action, data, blocking=True)
        assert err.value.translation_key == "hub_not_loaded"
