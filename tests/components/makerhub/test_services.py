"""The table of actions: every feature's actions registered, none other."""

from __future__ import annotations

from pathlib import Path

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
import yaml

from custom_components.makerhub.const import DOMAIN

SERVICES_YAML = Path(__file__).resolve().parents[3] / "custom_components/makerhub/services.yaml"


async def test_every_documented_action_is_registered(
    hass: HomeAssistant, hub: MockConfigEntry
) -> None:
    """With the hub set up, the registered actions are exactly those services.yaml documents."""
    documented = set(yaml.safe_load(SERVICES_YAML.read_text()))
    assert set(hass.services.async_services_for_domain(DOMAIN)) == documented
