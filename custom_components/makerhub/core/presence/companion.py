"""The Home Assistant companion app's Android "Beacon Monitor" sensor.

Its state is ``Monitoring`` while it scans (else ``Stopped`` or ``Bluetooth is turned
off``); each beacon it hears is one attribute named by the beacon key
``<uuid>_<major>_<minor>`` with the estimated distance in metres (two decimals, nearest
first). The app smooths RSSI itself and sends the sensor only when something changes: a
beacon appears, one expires (10 missed scans), the order changes, or a distance moves by
more than 0.5 m. So one reading stands until the next, and a beacon missing from it is
not heard. Other attributes (``options``, ``friendly_name``, ``icon``) are not beacons.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .distance import check_distance
from .errors import PresenceInputError
from .ibeacon import parse_beacon_key

STATE_MONITORING: Final = "Monitoring"
"""The sensor's state while it scans; in other states its attributes hold no beacons."""


def beacon_monitor_distances(attributes: Mapping[str, object]) -> dict[str, float]:
    """Return beacon key → distance in metres from the sensor's attributes.

    Keys come back in canonical form (lowercase UUID). Attributes that are no beacon keys
    are skipped; a beacon key or distance that is malformed raises
    :class:`PresenceInputError` naming the attribute, so a reading is taken whole or not.
    """
    distances: dict[str, float] = {}
    for name, value in attributes.items():
        try:
            beacon = parse_beacon_key(name)
            if beacon is None:
                continue
            distances[beacon.key] = check_distance(value)
        except PresenceInputError as err:
            raise PresenceInputError(err.reason, f"attribute {name!r}: {err}") from None
    return distances
