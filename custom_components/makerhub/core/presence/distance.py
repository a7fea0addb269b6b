"""Distance from signal strength: the log-distance path-loss model, and input checks.

``rssi = measured_power - 10 * n * log10(distance)``, where ``measured_power`` is the RSSI
at 1 m and ``n`` the environment factor (2 in free space, 2.5 to 4 indoors with people,
furniture and walls). The engine works in ``log10(distance)``: in that domain RSSI noise
is additive, smoothing is linear, and "nearer by a fraction" is a constant offset.
"""

from __future__ import annotations

import math
from typing import Final

from .errors import PresenceInputError, PresenceInputReason

MIN_DISTANCE: Final = 0.1
"""Metres; nearer readings (and the companion app's 0.0) are taken as this."""
MIN_RSSI: Final = -126.0
"""dBm; Home Assistant reports -127 for "no signal"."""
MAX_RSSI: Final = 20.0
"""dBm; anything stronger is not a received advert."""
MAX_NUMBER: Final = 1e6
"""A bound on distances so that arithmetic on them stays finite."""
_MIN_LOG: Final = math.log10(MIN_DISTANCE)


def log_distance(distance: float) -> float:
    """Return ``log10`` of a distance in metres, floored at :data:`MIN_DISTANCE`."""
    return math.log10(distance if distance > MIN_DISTANCE else MIN_DISTANCE)


def rssi_to_log_distance(rssi: float, measured_power: float, environment_factor: float) -> float:
    """Return ``log10`` of the distance the model gives for an RSSI, floored."""
    value = (measured_power - rssi) / (10.0 * environment_factor)
    return value if value > _MIN_LOG else _MIN_LOG


def rssi_to_distance(rssi: float, measured_power: float, environment_factor: float) -> float:
    """Return the distance in metres the model gives for an RSSI (at least MIN_DISTANCE)."""
    return float(10.0 ** rssi_to_log_distance(rssi, measured_power, environment_factor))


def distance_to_rssi(distance: float, measured_power: float, environment_factor: float) -> float:
    """Return the RSSI the model expects at a distance (the inverse, for synthetic traces)."""
    return measured_power - 10.0 * environment_factor * log_distance(distance)


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PresenceInputError(
            PresenceInputReason.WRONG_TYPE,
            f"{what} must be a number, got {type(value).__name__}",
        )
    number = float(value)
    if not math.isfinite(number):
        raise PresenceInputError(PresenceInputReason.NOT_FINITE, f"{what} is {value}")
    return number


def check_distance(value: object) -> float:
    """Return a reported distance in metres, or raise saying why it is unusable."""
    distance = _number(value, "distance")
    if distance < 0.0:
        raise PresenceInputError(
            PresenceInputReason.BAD_DISTANCE, f"distance must not be negative, got {distance}"
        )
    if distance > MAX_NUMBER:
        raise PresenceInputError(
            PresenceInputReason.BAD_DISTANCE, f"distance {distance} m is beyond any space"
        )
    return distance


def check_rssi(value: object) -> float:
    """Return an RSSI in dBm, or raise saying why it is unusable."""
    rssi = _number(value, "rssi")
    if not MIN_RSSI <= rssi <= MAX_RSSI:
        raise PresenceInputError(
            PresenceInputReason.BAD_RSSI,
            f"rssi must be {MIN_RSSI:g} to {MAX_RSSI:g} dBm, got {rssi:g}",
        )
    return rssi


def check_measured_power(value: object) -> int:
    """Return a measured power (RSSI at 1 m) in dBm, or raise saying why it is unusable."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise PresenceInputError(
            PresenceInputReason.WRONG_TYPE,
            f"measured power must be an integer, got {type(value).__name__}",
        )
    if not -127 <= value <= -1:
        raise PresenceInputError(
            PresenceInputReason.BAD_MEASURED_POWER,
            f"measured power must be -127 to -1 dBm, got {value}",
        )
    return value


def check_time(value: object) -> float:
    """Return a timestamp in seconds, or raise if it is no finite number."""
    return _number(value, "time")
