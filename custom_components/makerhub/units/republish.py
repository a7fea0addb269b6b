"""Publishing retained topics again, in batches: what the broker lost comes back without
flooding it (or Home Assistant's MQTT client) when a thousand units need it at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Iterable
import logging
from typing import Final

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback

_LOGGER = logging.getLogger(__package__)

REPUBLISH_BATCH: Final = 50
"""Retained messages published at a time; the next batch waits for the broker's acks."""
QOS: Final = 1

type MessageFor[K] = Callable[[K], tuple[str, str] | None]
"""Returns a queued key's topic and payload as they are now, or None if it is no longer due."""


class Republisher[K: Hashable]:
    """A queue of retained topics to publish again, drained by one task in batches.

    Keys are queued, not payloads: each message is asked for when its turn comes, so a
    value changed meanwhile goes out as it is now, and one the broker got back meanwhile
    is skipped. A key queued twice goes out once.
    """

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, message_for: MessageFor[K]) -> None:
        """Publish for ``entry`` (its unload cancels the task); ``message_for`` builds."""
        self.hass = hass
        self.entry = entry
        self._message_for = message_for
        self._queue: dict[K, None] = {}
        self._running = False

    @property
    def pending(self) -> int:
        """Return how many keys wait."""
        return len(self._queue)

    @callback
    def queue(self, keys: Iterable[K]) -> None:
        """Queue ``keys`` and start draining unless a drain runs."""
        self._queue.update(dict.fromkeys(keys))
        if self._queue and not self._running:
            self._running = True
            self.entry.async_create_background_task(
                self.hass, self._async_drain(), "makerhub republish retained"
            )

    async def _async_drain(self) -> None:
        published = 0
        try:
            while self._queue:
                batch = list(self._queue)[:REPUBLISH_BATCH]
                messages = [m for key in batch if (m := self._message_for(key)) is not None]
                for key in batch:
                    del self._queue[key]
                results = await asyncio.gather(
                    *(
                        mqtt.async_publish(self.hass, topic, payload, QOS, True)
                        for topic, payload in messages
                    ),
                    return_exceptions=True,
                )
                failed = [result for result in results if isinstance(result, Exception)]
                published += len(results) - len(failed)
                if failed:  # the broker went away: its reconnect brings a new check
                    _LOGGER.warning("Republishing retained topics failed: %s", failed[0])
                    self._queue.clear()
        finally:
            self._running = False
        if published:
            _LOGGER.info("Republished %d retained topics the broker lacked", published)
