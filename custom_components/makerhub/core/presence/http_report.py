"""The body of ``POST /api/makerhub/presence``, sent by custom apps on the person's behalf.

``{"beacon": {"uuid": ..., "major": ..., "minor": ...}, "distance": 1.2, "project": "x"}``
when the nearest beacon or its distance changes (``project`` optional, may be null), and
``{"exit": true}`` when the phone is far from every beacon.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from .distance import check_distance
from .errors import PresenceInputError, PresenceInputReason
from .ibeacon import BeaconId

MAX_PROJECT_LENGTH: Final = 255
_REPORT_FIELDS: Final = frozenset({"beacon", "distance", "project"})
_EXIT_FIELDS: Final = frozenset({"exit"})
_BEACON_FIELDS: Final = frozenset({"uuid", "major", "minor"})


@dataclass(frozen=True, slots=True)
class PresenceReport:
    """One parsed report: a beacon with a distance, or an exit (``beacon`` is None)."""

    beacon: BeaconId | None
    distance: float | None = None
    project: str | None = None

    @property
    def is_exit(self) -> bool:
        """Return whether the app says the person left every beacon behind."""
        return self.beacon is None


def _fail(reason: PresenceInputReason, message: str) -> PresenceInputError:
    return PresenceInputError(reason, message)


def _check_fields(obj: Mapping[str, object], allowed: frozenset[str], where: str) -> None:
    if extra := sorted(set(obj) - allowed):
        raise _fail(
            PresenceInputReason.UNKNOWN_FIELD,
            f"{where}: unknown field(s) {', '.join(map(repr, extra))}; "
            f"allowed: {', '.join(sorted(allowed))}",
        )


def check_project(value: object) -> str | None:
    """Return a project name (None for none), or raise if it is not a short string."""
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_PROJECT_LENGTH:
        raise _fail(
            PresenceInputReason.BAD_PROJECT,
            f"project must be null or a string of 1 to {MAX_PROJECT_LENGTH} characters",
        )
    return value


def parse_presence_report(payload: object) -> PresenceReport:
    """Check a decoded JSON body and return the report, or raise saying what is wrong."""
    if not isinstance(payload, Mapping):
        raise _fail(PresenceInputReason.WRONG_TYPE, "the body must be a JSON object")
    if "exit" in payload:
        _check_fields(payload, _EXIT_FIELDS, "an exit report")
        if payload["exit"] is not True:
            raise _fail(PresenceInputReason.WRONG_TYPE, "exit must be true")
        return PresenceReport(None)
    _check_fields(payload, _REPORT_FIELDS, "a beacon report")
    for name in ("beacon", "distance"):
        if name not in payload:
            raise _fail(PresenceInputReason.MISSING_FIELD, f"{name} is required")
    beacon = payload["beacon"]
    if not isinstance(beacon, Mapping):
        raise _fail(
            PresenceInputReason.WRONG_TYPE, 'beacon must be an object {"uuid", "major", "minor"}'
        )
    _check_fields(beacon, _BEACON_FIELDS, "beacon")
    if missing := sorted(_BEACON_FIELDS - set(beacon)):
        raise _fail(PresenceInputReason.MISSING_FIELD, f"beacon needs {', '.join(missing)}")
    return PresenceReport(
        BeaconId(beacon["uuid"], beacon["major"], beacon["minor"]),
        check_distance(payload["distance"]),
        check_project(payload.get("project")),
    )
