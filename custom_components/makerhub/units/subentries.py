"""The stored form of a unit: a config subentry of the hub."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigSubentry

from ..const import (
    DATA_ANNOUNCE_ID,
    DATA_MODEL,
    DATA_SCHEMA,
    DATA_UID,
    SUBENTRY_FIRMWARE_UNIT,
    SUBENTRY_UNIT,
)
from ..core.protocol import Announcement
from ..core.schema import parse_makerhub_json
from ..core.unit import UnitIdentity
from ..subentries import subentries_by


def unit_subentry_data(uid: str, announcement: Announcement) -> dict[str, Any]:
    """Return what a unit adopted from an announcement stores."""
    return {
        DATA_UID: uid,
        DATA_ANNOUNCE_ID: announcement.announce_id,
        DATA_MODEL: announcement.model,
        DATA_SCHEMA: announcement.schema.to_json(),
    }


def unit_identity(subentry: ConfigSubentry) -> UnitIdentity:
    """Return the identity stored in a unit subentry; raise SchemaError if it is corrupt."""
    data = subentry.data
    return UnitIdentity(
        uid=data[DATA_UID],
        name=subentry.title,
        model=data.get(DATA_MODEL),
        announce_id=data.get(DATA_ANNOUNCE_ID),
        schema=parse_makerhub_json(data[DATA_SCHEMA], source=f"stored schema of {subentry.title}"),
    )


def unit_subentries(entry: ConfigEntry) -> dict[str, ConfigSubentry]:
    """Return the hub's unit subentries by unit id."""
    return subentries_by(entry, DATA_UID, SUBENTRY_UNIT, SUBENTRY_FIRMWARE_UNIT)


def unit_names(entry: ConfigEntry, exclude_uid: str | None = None) -> set[str]:
    """Return the names in use by units (case-folded), for uniqueness checks."""
    return {
        subentry.title.casefold()
        for uid, subentry in unit_subentries(entry).items()
        if uid != exclude_uid
    }
