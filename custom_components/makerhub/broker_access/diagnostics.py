"""Broker access's part of the diagnostics: its mode, which units the broker knows, and
the last error (never a password)."""

from __future__ import annotations

from typing import Any

from .access import BrokerAccess


def broker_access_diagnostics(access: BrokerAccess) -> dict[str, Any]:
    """Return the hub's broker access."""
    return {
        "mode": access.mode.value,
        "units_applied": sorted(access.applied),
        "last_error": access.last_error,
    }


def unit_broker_access_diagnostics(access: BrokerAccess, uid: str) -> dict[str, Any]:
    """Return one unit's broker access."""
    return {"mode": access.mode.value, "applied": uid in access.applied}
