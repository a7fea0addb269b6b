"""Makerhub on Home Assistant's system health page: the hub, and health's verdicts."""

from __future__ import annotations

from typing import Any

from homeassistant.components import system_health
from homeassistant.core import HomeAssistant, callback

from .health.manager import (
    ITEM_BROKER,
    ITEM_DATABASE,
    ITEM_DESKTOPS,
    ITEM_FIRMWARE,
    ITEM_RECORDER,
)
from .runtime import running_runtime


@callback
def async_register(hass: HomeAssistant, register: system_health.SystemHealthRegistration) -> None:
    """Register Makerhub's system health information."""
    register.async_register_info(system_health_info)


async def system_health_info(hass: HomeAssistant) -> dict[str, Any]:
    """Return the hub's state, how many items are healthy and each service's status."""
    runtime = running_runtime(hass)
    if runtime is None:
        return {"hub": "not loaded"}
    health = runtime.health
    summary = health.monitor.summary()
    info: dict[str, Any] = {
        "hub": "running",
        "healthy": f"{summary.healthy} of {summary.total}",
        "units": len(runtime.hub.units),
    }
    for key, item_id in (
        ("broker", ITEM_BROKER),
        ("telemetry_database", ITEM_DATABASE),
        ("firmware_service", ITEM_FIRMWARE),
        ("desktops_service", ITEM_DESKTOPS),
        ("recorder_service", ITEM_RECORDER),
    ):
        item = health.health(item_id)
        info[key] = "not set up" if item is None else str(item.status)
    if summary.root_causes:
        info["problems"] = ", ".join(health.items[i].spec.name for i in summary.root_causes)
    return info
