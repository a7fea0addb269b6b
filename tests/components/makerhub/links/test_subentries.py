"""Links as subentries: they go with a deleted unit."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.makerhub.const import DOMAIN, SUBENTRY_LINK
from tests.components.makerhub.conftest import UID, unit_entity_id
from tests.components.makerhub.links.conftest import FAN, published


async def test_deleting_a_unit_deletes_its_links(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    hub: MockConfigEntry,
) -> None:
    """The links of a deleted unit go, and the units they fed get their schema back."""
    await hass.services.async_call(
        DOMAIN,
        "link",
        {
            "source": unit_entity_id(hass, FAN, ("out", "temperature")),
            "target": unit_entity_id(hass, UID, ("in", "target")),
        },
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
