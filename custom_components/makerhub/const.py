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

CONF_TELEMETRY_DSN: Final = "telemetry_dsn"
"""The telemetry database URL, encrypted with the hub's secret box (empty: telemetry off)."""
CONF_TELEMETRY_RETENTION_DAYS: Final = "telemetry_retention_days"
CONF_TELEMETRY_ROLLUPS: Final = "telemetry_rollups"
DEFAULT_TELEMETRY_RETENTION_DAYS: Final = 90
DEFAULT_TELEMETRY_ROLLUPS: Final = True

CONF_PRESENCE_REQUIRE_PROJECT: Final = "presence_require_project"
"""The space is active only while someone present has a project (else: anyone present)."""
CONF_PRESENCE_TUNABLES: Final = "presence_tunables"
"""The presence engine's tunables that differ from their defaults."""

SUBENTRY_UNIT: Final = "unit"
SUBENTRY_STATION: Final = "station"
"""A place in the space marked by an iBeacon (workbench, laser cutter)."""
SUBENTRY_PHONE: Final = "phone"
"""A person's phone: its Beacon Monitor (companion app) and the iBeacon it transmits."""
SUBENTRY_AGGREGATE: Final = "aggregate"
"""A telemetry aggregate sensor, e.g. a variable's median over 10 minutes."""
SUBENTRY_REPOSITORY: Final = "repository"
"""A git repository registered with the firmware service."""
SUBENTRY_FIRMWARE_UNIT: Final = "firmware_unit"
"""A unit made from a repository (its firmware built and updated by the hub)."""
SUBENTRY_LINK: Final = "link"
"""One unit's output feeding another unit's input, routed by the broker."""
SUBENTRY_PROJECT: Final = "project"
"""A maker project made with the new-project wizard (deleting it deletes the project)."""

CONF_PROJECT_LICENCE: Final = "project_licence"
"""The space's open-source policy: the licence of the GitHub repositories it creates."""
CONF_TODOIST_INTERVAL: Final = "todoist_interval"
"""Minutes between two Todoist syncs of every linked project."""
CONF_AGREEMENT_TEXT: Final = "agreement_text"
"""The space's agreement a member signs before their first project (empty: the default)."""
CONF_MONTHLY_BUDGET: Final = "monthly_budget"
"""What every project together may spend in a month, in Home Assistant's currency (0: none)."""
DEFAULT_PROJECT_LICENCE: Final = "mit"
DEFAULT_TODOIST_INTERVAL: Final = 15
NO_LICENCE: Final = "none"

DATA_UID: Final = "uid"
DATA_ANNOUNCE_ID: Final = "announce_id"
DATA_MODEL: Final = "model"
DATA_SCHEMA: Final = "schema"
DATA_DIRECTION: Final = "direction"
DATA_VARIABLE: Final = "variable"
DATA_AGGREGATION: Final = "aggregation"
DATA_UUID: Final = "uuid"
DATA_MAJOR: Final = "major"
DATA_MINOR: Final = "minor"
DATA_MEASURED_POWER: Final = "measured_power"
DATA_SCANNERS: Final = "scanners"
DATA_AREA: Final = "area_id"
DATA_DISPLAY: Final = "display_device_id"
"""The device (a Makerhub unit) showing things at a station: where desktops follow people."""
DATA_PERSON: Final = "person"
DATA_DEVICE: Final = "device_id"
DATA_PROJECT_ID: Final = "project_id"
DATA_VISIBILITY: Final = "visibility"
"""Who may link to a unit's outputs: public, instance or private."""
DATA_OWNER: Final = "owner"
"""The Home Assistant user id owning a unit (none: the hub's admins)."""
DATA_LINK: Final = "link"
"""A link subentry's link (``core.links.Link`` JSON)."""
DATA_WINDOW: Final = "window"
"""Seconds an aggregate sensor looks back."""

PLATFORMS: Final = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CAMERA,
    Platform.DEVICE_TRACKER,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.TEXT,
    Platform.TODO,
    Platform.UPDATE,
]

HUB_DEVICE_ID: Final = "hub"
"""The identifier of the hub's own device (telemetry counters), beside the units' ids."""

EVENT_STATION_CHANGED: Final = "makerhub_station_changed"
"""A person arrived at, moved between or left stations (``person``, ``from``, ``to``)."""
EVENT_PROJECT_SWITCHED: Final = "makerhub_project_switched"
"""A person switched their active project (``person``, ``from``, ``to``: project slugs)."""
EVENT_UNIT_EVENT: Final = "makerhub_unit_event"
"""Fired for a unit's ``sys/event`` report (update started, ok, failed, rolled back)."""

REAUTH_CREDENTIAL: Final = "credential"
"""Key of a reauthentication flow's data: which of the hub's credentials was refused."""
REAUTH_FIRMWARE: Final = "firmware"
"""The firmware service refused the hub's token."""
REAUTH_BROKER_ADMIN: Final = "broker_admin"
"""The broker refused the dynamic-security admin user or password."""

HUB_NOT_RUNNING: Final = "the Makerhub hub is not running"
"""The message of the HTTP views' 503 while the hub entry is not loaded."""
