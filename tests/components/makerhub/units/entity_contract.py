"""The contract every unit-entity platform keeps, checked for one variable of a platform.

Each unit-entity platform test (sensor, binary_sensor, number, select, switch, text) calls
:func:`check_unit_entity_contract` with one of the bench unit's variables. It drives the
unit over the MQTT mock, as a real unit would, and checks:

- the entity is the platform's and has the unique id ``<uid>-<in|out>-<name>``;
- it belongs to the unit's device;
- it is unavailable until the unit reports, and while the unit's status is ``offline``;
- it is unavailable once no state report arrived within the offline timeout;
- outputs (sensor, binary_sensor): a burst of numeric values is coalesced into one write
  per interval, the last value shown; every change of any other type is written at once;
- after a restart (the entry reloaded), an input shows its stored set-point again; an
  output keeps its entity and shows no stale value (units resend outputs; nothing to restore).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN, Platform
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
    async_fire_time_changed,
)

from custom_components.makerhub.const import DOMAIN
from custom_components.makerhub.units.hub import MakerhubHub
from tests.components.makerhub.conftest import UID, bring_online, unit_entity_id

COALESCE_INTERVAL = 1.0
"""The write interval the contract sets for the coalescing check (seconds)."""


@dataclass(frozen=True)
class Sample:
    """A value as the unit sends it (``payload``) and as the entity shows it (``shown``)."""

    payload: str
    shown: str


def units_hub(entry: MockConfigEntry) -> MakerhubHub:
    """Return the running hub of the entry."""
    hub: MakerhubHub = entry.runtime_data.hub
    return hub


async def settle(hass: HomeAssistant) -> None:
    """Let a coalesced write that is due within the interval happen."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=COALESCE_INTERVAL + 0.1))
    await hass.async_block_till_done()


def fire_availability_check(hass: HomeAssistant) -> None:
    """Run the hub's periodic availability check (every 5 s)."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))


async def send(hass: HomeAssistant, topic: str, sample: Sample) -> None:
    """Send a live value: a unit's output, or a client setting an input (its new set-point)."""
    async_fire_mqtt_message(hass, topic, sample.payload)
    await hass.async_block_till_done()


def state_of(hass: HomeAssistant, entity_id: str) -> str:
    """Return the entity's state; it must exist."""
    state = hass.states.get(entity_id)
    assert state is not None, f"{entity_id} has no state"
    return state.state


async def check_unit_entity_contract(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    platform: Platform,
    key: tuple[str, str],
    samples: tuple[Sample, Sample, Sample],
    uid: str = UID,
) -> None:
    """Check the contract for the entity of variable ``key`` (``("out"|"in", name)``).

    ``samples`` are three values of the variable, each different from the one before
    (for a numeric output, the first and last differ too).
    Call it on a freshly set-up hub (the ``hub`` fixture) before the unit reported anything.
    """
    direction, name = key
    topic = f"makerhub/{uid}/{direction}/{name}"
    registry = er.async_get(hass)

    # The platform's entity with the unit-entity unique id, on the unit's device.
    entity_id = unit_entity_id(hass, uid, key)
    assert entity_id.startswith(f"{platform}."), entity_id
    registry_entry = registry.async_get(entity_id)
    assert registry_entry is not None
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, uid)})
    assert device is not None
    assert registry_entry.device_id == device.id

    # Availability by status.
    assert state_of(hass, entity_id) == STATE_UNAVAILABLE
    await bring_online(hass, uid)
    assert state_of(hass, entity_id) == STATE_UNKNOWN

    # Coalescing: the entity has not written a value yet, so the first one goes at once.
    hub = units_hub(entry)
    hub.coalescer.interval = COALESCE_INTERVAL
    written: list[str] = []

    @callback
    def record(event: Event[EventStateChangedData]) -> None:
        new_state = event.data["new_state"]
        assert new_state is not None
        written.append(new_state.state)

    unsubscribe = async_track_state_change_event(hass, entity_id, record)
    deferred_before = hub.coalescer.deferred
    for sample in samples:
        await send(hass, topic, sample)
    await settle(hass)
    unsubscribe()
    coalesced = hub.coalescer.deferred - deferred_before
    if direction == "out" and hub.units[uid].identity.schema.outputs[name].is_numeric:
        assert written == [samples[0].shown, samples[-1].shown]
        assert coalesced == len(samples) - 2
    elif direction == "out":
        assert written == [sample.shown for sample in samples]
        assert coalesced == 0
    assert state_of(hass, entity_id) == samples[-1].shown

    # Offline status: unavailable; back online: the value again.
    async_fire_mqtt_message(hass, f"makerhub/{uid}/sys/status", "offline")
    await hass.async_block_till_done()
    assert state_of(hass, entity_id) == STATE_UNAVAILABLE
    await bring_online(hass, uid)
    assert state_of(hass, entity_id) == samples[-1].shown

    # No state report within the offline timeout: unavailable.
    unit = hub.units[uid]
    assert unit.last_state_at is not None
    unit.last_state_at -= hub.options.offline_timeout + 30
    fire_availability_check(hass)
    await hass.async_block_till_done()
    assert state_of(hass, entity_id) == STATE_UNAVAILABLE
    await bring_online(hass, uid)
    assert state_of(hass, entity_id) == samples[-1].shown

    # A restart: the same entity; an input shows its set-point, an output waits for the unit.
    await settle(hass)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert unit_entity_id(hass, uid, key) == entity_id
    assert state_of(hass, entity_id) == STATE_UNAVAILABLE
    await bring_online(hass, uid)
    shown_after_restart = samples[-1].shown if direction == "in" else STATE_UNKNOWN
    assert state_of(hass, entity_id) == shown_after_restart
