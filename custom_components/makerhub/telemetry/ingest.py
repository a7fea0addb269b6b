"""Telemetry's own broker session, with Home Assistant's MQTT credentials.

Output values reach the writer through :class:`..core.telemetry.ingest.TelemetryIngest`
(a persistent session, acknowledged once durable), not through Home Assistant's MQTT
integration, whose clean session loses what units send while Home Assistant restarts.
Entities still follow Home Assistant's own subscriptions.
"""

from __future__ import annotations

import logging
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import HomeAssistant

from ..core.telemetry import TelemetryWriter
from ..core.telemetry.ingest import Handler, IngestSettings, TelemetryIngest

_LOGGER = logging.getLogger(__package__)

MQTT_DOMAIN: Final = "mqtt"
CONF_BROKER: Final = "broker"
DEFAULT_PORT: Final = 1883
UNSUPPORTED: Final = ("certificate", "client_cert", "client_key", "transport")
"""HA MQTT settings the own session does not follow (TLS, WebSockets)."""


def ingest_settings(hass: HomeAssistant, entry: ConfigEntry, prefix: str) -> IngestSettings | None:
    """Return the own session's settings, or None when HA's MQTT entry is one it cannot copy.

    The client id is fixed per hub, so the broker keeps one session for it across restarts.
    """
    mqtt_entries = hass.config_entries.async_entries(MQTT_DOMAIN)
    if not mqtt_entries:
        return None
    data = mqtt_entries[0].data
    if CONF_BROKER not in data:
        return None
    if any(data.get(key) not in (None, "", "tcp") for key in UNSUPPORTED):
        _LOGGER.warning(
            "Telemetry takes output values from Home Assistant's MQTT session: its own "
            "session does not support TLS or WebSockets yet, so values sent while Home "
            "Assistant restarts are not recorded"
        )
        return None
    return IngestSettings(
        host=str(data[CONF_BROKER]),
        port=int(data.get(CONF_PORT, DEFAULT_PORT)),
        client_id=f"makerhub-telemetry-{entry.entry_id}",
        topics=(f"{prefix}/+/out/+",),
        username=data.get(CONF_USERNAME) or None,
        password=data.get(CONF_PASSWORD) or None,
    )


async def async_start_ingest(
    hass: HomeAssistant,
    entry: ConfigEntry,
    prefix: str,
    writer: TelemetryWriter,
    handle: Handler,
) -> TelemetryIngest | None:
    """Start the own session (connecting in the background); None when it cannot be used."""
    if (settings := ingest_settings(hass, entry, prefix)) is None:
        return None
    ingest = TelemetryIngest(settings, writer, handle)
    await ingest.start()
    return ingest
