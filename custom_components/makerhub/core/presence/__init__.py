"""Presence: who is at which station, from iBeacons, and whether the space is active.

Pure Python (no Home Assistant imports). The Home Assistant glue builds a
:class:`PresenceEngine` from the stations and phones in the config entry, feeds it
Bluetooth adverts, companion-app Beacon Monitor readings and HTTP reports, calls
:meth:`PresenceEngine.tick` regularly, and turns the returned :class:`StationChange`
events into Home Assistant events, entity updates and MQTT messages.
See ``docs/presence.md``.
"""

from __future__ import annotations

from .companion import STATE_MONITORING, beacon_monitor_distances
from .config import AWAY, DEFAULT_MEASURED_POWER, Phone, PresenceConfig, PresenceTunables, Station
from .distance import rssi_to_distance
from .engine import (
    ChangeCause,
    PersonPresence,
    PresenceEngine,
    PresenceSource,
    PresenceStats,
    SpaceState,
    StationChange,
)
from .errors import IgnoredReason, PresenceConfigError, PresenceInputError, PresenceInputReason
from .http_report import PresenceReport, parse_presence_report
from .ibeacon import (
    APPLE_COMPANY_ID,
    BeaconId,
    IBeaconAdvert,
    build_ibeacon_payload,
    parse_beacon_key,
    parse_ibeacon,
)

__all__ = [
    "APPLE_COMPANY_ID",
    "AWAY",
    "DEFAULT_MEASURED_POWER",
    "STATE_MONITORING",
    "BeaconId",
    "ChangeCause",
    "IBeaconAdvert",
    "IgnoredReason",
    "PersonPresence",
    "Phone",
    "PresenceConfig",
    "PresenceConfigError",
    "PresenceEngine",
    "PresenceInputError",
    "PresenceInputReason",
    "PresenceReport",
    "PresenceSource",
    "PresenceStats",
    "PresenceTunables",
    "SpaceState",
    "Station",
    "StationChange",
    "beacon_monitor_distances",
    "build_ibeacon_payload",
    "parse_beacon_key",
    "parse_ibeacon",
    "parse_presence_report",
    "rssi_to_distance",
]
