"""High-rate outputs: state writes coalesced per entity, the newest value always shown."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
    async_fire_time_changed,
)

from custom_components.makerhub.const import CONF_UPDATE_INTERVAL
from tests.components.makerhub.conftest import HUB_OPTIONS, UID, bring_online, unit_entity_id


@pytest.mark.parametrize("hub_options", [{**HUB_OPTIONS, CONF_UPDATE_INTERVAL: 1.0}])
async def test_updates_coalesced(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """The first value writes at once; a burst within the interval writes its last value."""
    await bring_online(hass)
    written: list[str] = []

    @callback
    def record(event: Event[EventStateChangedData]) -> None:
        written.append(event.data["new_state"].state)

    async_track_state_change_event(hass, unit_entity_id(hass, UID, ("out", "temperature")), record)
    for value in ("20", "21", "22", "23"):
        async_fire_mqtt_message(hass, f"makerhub/{UID}/out/temperature", value)
    await hass.async_block_till_done()
    assert written == ["20.0"]
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=1.1))
    await hass.async_block_till_done()
    assert written == ["20.0", "23.0"]
    assert hub.runtime_data.hub.coalescer.deferred == 2
    # Another entity is independent of the first one's interval.
    async_fire_mqtt_message(hass, f"makerhub/{UID}/out/count", "7")
    await hass.async_block_till_done()
    assert hass.states.get(unit_entity_id(hass, UID, ("out", "count"))).state == "7"


@pytest.mark.parametrize("hub_options", [{**HUB_OPTIONS, CONF_UPDATE_INTERVAL: 60.0}])
async def test_events_not_coalesced(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """Booleans, enums and texts are events: every change is written at once."""
    await bring_online(hass)
    written: list[str] = []

    @callback
    def record(event: Event[EventStateChangedData]) -> None:
        written.append(event.data["new_state"].state)

    async_track_state_change_event(hass, unit_entity_id(hass, UID, ("out", "door")), record)
    for value in ("true", "false", "true", "true"):
        async_fire_mqtt_message(hass, f"makerhub/{UID}/out/door", value)
        await hass.async_block_till_done()
    assert written == ["on", "off", "on"]
    for value in ("idle", "heating"):
        async_fire_mqtt_message(hass, f"makerhub/{UID}/out/mode", value)
        await hass.async_block_till_done()
        assert hass.states.get(unit_entity_id(hass, UID, ("out", "mode"))).state == value
    assert hub.runtime_data.hub.coalescer.deferred == 0


@pytest.mark.parametrize("hub_options", [{**HUB_OPTIONS, CONF_UPDATE_INTERVAL: 1.0}])
async def test_pending_write_dropped_with_entity(hass: HomeAssistant, hub: MockConfigEntry) -> None:
    """Unloading with a write pending leaves no timer behind."""
    await bring_online(hass)
    for value in ("20", "21"):
        async_fire_mqtt_message(hass, f"makerhub/{UID}/out/temperature", value)
    await hass.async_block_till_done()
    coalescer = hub.runtime_data.hub.coalescer
    assert coalescer._timer is not None
    assert await hass.config_entries.async_unload(hub.entry_id)
    assert coalescer._timer is None
