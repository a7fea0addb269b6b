"""Reading the hub's config subentries by type: the one way every feature finds its own."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry, ConfigSubentry


def subentries_of(entry: ConfigEntry, *types: str) -> list[ConfigSubentry]:
    """Return the entry's subentries of the given types, in their stored order."""
    return [s for s in entry.subentries.values() if s.subentry_type in types]


def subentries_by(entry: ConfigEntry, key: str, *types: str) -> dict[str, ConfigSubentry]:
    """Return the entry's subentries of the given types by the value they store at ``key``."""
    return {s.data[key]: s for s in subentries_of(entry, *types)}
