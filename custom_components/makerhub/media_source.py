"""The media source platform: the cameras' recordings and time-lapses
(cameras/media_source.py)."""

from __future__ import annotations

from homeassistant.components.media_source import MediaSource
from homeassistant.core import HomeAssistant

from .cameras.media_source import RecorderMediaSource


async def async_get_media_source(hass: HomeAssistant) -> MediaSource:
    """Return the recorder's media source."""
    return RecorderMediaSource(hass)
