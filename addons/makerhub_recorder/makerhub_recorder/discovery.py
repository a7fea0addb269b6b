"""Telling Home Assistant where the service is, through the Supervisor's discovery API.

``POST http://supervisor/discovery`` with ``{"service": "makerhub", "config": …}``: the
``makerhub`` integration's ``hassio`` discovery flow gets the host, port and API token,
and ``"kind": "recorder"`` to tell this service from the firmware service.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any, Final

import aiohttp

_LOGGER = logging.getLogger(__name__)

SERVICE: Final = "makerhub"
KIND: Final = "recorder"
ATTEMPTS: Final = 5


def discovery_config(port: int, token: str, host: str | None = None) -> dict[str, Any]:
    """Return what the integration receives."""
    return {"kind": KIND, "host": host or socket.gethostname(), "port": port, "token": token}


async def announce(
    supervisor_token: str,
    config: dict[str, Any],
    supervisor_url: str,
    retry_delay: float = 5.0,
) -> str | None:
    """Register the discovery entry; return its uuid (None if the Supervisor refused)."""
    headers = {"Authorization": f"Bearer {supervisor_token}"}
    payload = {"service": SERVICE, "config": config}
    async with aiohttp.ClientSession() as session:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with session.post(
                    f"{supervisor_url}/discovery",
                    json=payload,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=15),
                ) as response:
                    body = await response.json(content_type=None)
                    if response.status == 200 and body.get("result") == "ok":
                        uuid = body.get("data", {}).get("uuid")
                        _LOGGER.info("announced to Home Assistant (discovery %s)", uuid)
                        return str(uuid)
                    _LOGGER.warning("discovery refused by the Supervisor (%s)", response.status)
                    return None
            except (aiohttp.ClientError, TimeoutError, ValueError) as err:
                _LOGGER.warning("discovery attempt %s failed: %s", attempt, err)
            await asyncio.sleep(retry_delay)
    return None
