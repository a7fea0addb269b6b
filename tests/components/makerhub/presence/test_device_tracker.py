"""The device tracker of a person's presence in the space."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from tests.components.makerhub.presence.conftest import beacon, post, settle


async def test_tracker_follows_the_person(
    hass: HomeAssistant,
    alice: str,
    hub: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The person's device tracker is home while they are at any station."""
    tracker = "device_tracker.alice_in_the_space"
    state = hass.states.get(tracker)
    assert state is not None
    assert state.state == "not_home"
    assert state.attributes["source_type"] == "bluetooth_le"
    client = await hass_client()
    await post(client, {"beacon": beacon(1), "distance": 1.0})
    await settle(hass, freezer, 2)
    state = hass.states.get(tracker)
    assert state.state == "home"
    assert state.attributes["station"] == "Bench A"
