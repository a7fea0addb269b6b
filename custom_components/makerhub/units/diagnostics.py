"""The units' part of the diagnostics: the hub's message counters, bad input, retained
copies and each unit's runtime picture (no secrets in it; the schema's secret env
defaults and the signatures and tokens in addresses redacted)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from ..core.displays import redact_address_secrets
from ..core.unit import UnitRuntime
from ..core.unit_env import redact_schema
from .hub import MakerhubHub


def hub_diagnostics(hub: MakerhubHub) -> dict[str, Any]:
    """Return the hub's runtime picture: what arrived, what was refused, every unit."""
    now = hub.hass.loop.time()
    inbox = hub.inbox
    return {
        "prefix": hub.prefix,
        "messages": inbox.messages,
        "output_values": inbox.output_values,
        "coalesced_updates": hub.coalescer.deferred,
        "bad_input": inbox.bad_input.as_dict(),
        "announced_not_adopted": sorted(inbox.announced),
        "units": {uid: unit_diagnostics(unit, now) for uid, unit in hub.units.items()},
        "retained_inputs": {
            uid: redact_address_secrets(held) for uid, held in hub.retained.inputs.items()
        },
        "republish_pending": hub.retained.republisher.pending,
    }


def unit_diagnostics(unit: UnitRuntime, now: float) -> Mapping[str, Any]:
    """Return one unit's runtime picture."""
    return {
        "name": unit.identity.name,
        "model": unit.identity.model,
        "announce_id": unit.identity.announce_id,
        "status": unit.status,
        "available": unit.available,
        "state": None if unit.state is None else asdict(unit.state),
        "seconds_since_state": (
            None if unit.last_state_at is None else round(now - unit.last_state_at, 1)
        ),
        "outputs": redact_address_secrets(unit.outputs),
        "inputs": redact_address_secrets(unit.inputs),
        "schema": redact_schema(unit.identity.schema),
        "recent_logs": [asdict(record) for record in unit.logs],
    }


def unit_device_diagnostics(hub: MakerhubHub, uid: str) -> dict[str, Any] | None:
    """Return a unit device's runtime picture, bad input and links (None: the unit is
    not loaded)."""
    unit = hub.units.get(uid)
    if unit is None:
        return None
    return {
        "unit": unit_diagnostics(unit, hub.hass.loop.time()),
        "bad_input": hub.bad_input.by_unit.get(uid, 0),
        "links": [
            link.to_json() for link in hub.links.links() if uid in (link.source, link.target)
        ],
    }
