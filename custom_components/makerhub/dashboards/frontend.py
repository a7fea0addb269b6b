"""The frontend module (``frontend/makerhub.js``, built from the repository's ``frontend/``
and shipped with the integration): served as a static file and loaded by every frontend
page, so the fleet graph card and the ``custom:makerhub`` strategy need no resource added
by hand.

The file is public, as Home Assistant's own frontend code is: it is code, no data; what
it shows comes through the authenticated WebSocket API.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

from homeassistant.components.frontend import add_extra_js_url
from homeassistant.components.http import StaticPathConfig
from homeassistant.core import HomeAssistant

MODULE_FILE: Final = Path(__file__).parent / "frontend" / "makerhub.js"
STATIC_URL: Final = "/makerhub_frontend/makerhub.js"


def _fingerprint() -> str:
    return hashlib.sha256(MODULE_FILE.read_bytes()).hexdigest()[:16]


async def async_register_frontend(hass: HomeAssistant) -> str:
    """Serve the module and, when the frontend is loaded, add it to every page; return
    its URL (with the file's fingerprint, so a new version is never taken from a cache)."""
    fingerprint = await hass.async_add_executor_job(_fingerprint)
    await hass.http.async_register_static_paths(
        [StaticPathConfig(STATIC_URL, str(MODULE_FILE), cache_headers=True)]
    )
    url = f"{STATIC_URL}?v={fingerprint}"
    if "frontend" in hass.config.components:
        add_extra_js_url(hass, url)
    return url
