"""Constants of the Makerhub integration."""

from __future__ import annotations

from typing import Final

from homeassistant.const import Platform

DOMAIN: Final = "makerhub"

CONF_PREFIX: Final = "prefix"
CONF_OFFLINE_TIMEOUT: Final = "offline_timeout"
CONF_UPDATE_INTERVAL: Final = "update_interval"
CONF_UNIT_BROKER_HOST: Final = "unit_broker_host"
CONF_UNIT_BROKER_PORT: Final = "unit_broker_port"
CONF_UNIT_BROKER_TLS: Final = "unit_broker_tls"

DEFAULT_OFFLINE_TIMEOUT: Final = 90
"""Seconds without a state report before a unit's entities go unavailable."""
DEFAULT_UPDATE_INTERVAL: Final = 5.0
"""Minimum seconds between two state writes of a numeric entity; faster values coalesce.

Numbers are what units stream at high rates; Home Assistant's recorder would store every
write. Booleans, enums and texts change as events and are written at once."""
DEFAULT_UNIT_BROKER_PORT: Final = 1883

SUBENTRY_UNIT: Final = "unit"

DATA_UID: Final = "uid"
DATA_ANNOUNCE_ID: Final = "announce_id"
DATA_MODEL: Final = "model"
DATA_SCHEMA: Final = "schema"

PLATFORMS: Final = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.TEXT,
]

EVENT_UNIT_EVENT: Final = "makerhub_unit_event"
"""Fired for a unit's ``sys/event`` report (update started, ok, failed, rolled back)."""
