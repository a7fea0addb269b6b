"""The features' contributions to a Home Assistant platform, gathered in one table each.

Each feature package (``units/``, ``presence/``, …) holds, per platform it adds entities
to, a module with the platform's ``async_setup_entry``; the integration's platform file
(``sensor.py``, …) only names those modules, through :func:`platform_of`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .runtime import MakerhubConfigEntry

type PlatformSetup = Callable[
    [HomeAssistant, MakerhubConfigEntry, AddConfigEntryEntitiesCallback], Awaitable[None]
]


class FeaturePlatform(Protocol):
    """A feature's module for one platform."""

    @property
    def async_setup_entry(self) -> PlatformSetup:
        """Add the feature's entities of the platform, now and as they appear."""


def platform_of(*features: FeaturePlatform) -> PlatformSetup:
    """Return a platform's ``async_setup_entry``: each feature's, in the order given."""

    async def async_setup_entry(
        hass: HomeAssistant,
        entry: MakerhubConfigEntry,
        async_add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        for feature in features:
            await feature.async_setup_entry(hass, entry, async_add_entities)

    return async_setup_entry
