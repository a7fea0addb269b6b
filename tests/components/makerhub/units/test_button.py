"""A unit's buttons: the restart command."""

from __future__ import annotations

import json

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from tests.components.makerhub.conftest import UID, bring_online, unit_entity_id

pytestmark = pytest.mark.usefixtures("hub")


async def test_restart_button(hass: HomeAssistant, mqtt_mock: MqttMockHAClient) -> None:
    """The restart button publishes the restart command."""
    await bring_online(hass)
    mqtt_mock.async_publish.reset_mock()
    await hass.services.async_call(
        "button",
        "press",
        {ATTR_ENTITY_ID: unit_entity_id(hass, UID, ("sys", "restart"))},
        blocking=True,
    )
    mqtt_mock.async_publish.assert_called_once_with(
        f"makerhub/{UID}/sys/cmd", json.dumps({"cmd": "restart"}, separators=(",", ":")), 1, False
    )
