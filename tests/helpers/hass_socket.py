"""Home Assistant's WebSocket API with many commands in flight and event subscriptions.

:meth:`HassClient.ws <dev.processes.hass_process.HassClient.ws>` sends one command at a
time and drops everything else the socket carries. The end-to-end tests also need to
keep a long service call running (an update that waits for its unit) while they make
others, and to see the events Home Assistant fires: :class:`HassSocket` opens a
connection of its own, matches results to commands by id, and keeps every event of its
subscriptions.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp

from dev.processes.hass_process import HassApiError, HassClient


class HassSocket:
    """One authenticated WebSocket connection (``async with``)."""

    def __init__(self, client: HassClient) -> None:
        """Use ``client``'s session and token (log in first)."""
        self.client = client
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._events: dict[int, list[dict[str, Any]]] = {}

    async def __aenter__(self) -> HassSocket:
        """Connect and authenticate."""
        self._ws = await self.client.session.ws_connect(f"{self.client.url}/api/websocket")
        await self._ws.receive_json()  # auth_required
        await self._ws.send_json({"type": "auth", "access_token": self.client.token})
        reply = await self._ws.receive_json()
        if reply["type"] != "auth_ok":
            raise HassApiError(f"WebSocket auth failed: {reply}")
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Disconnect; commands still waiting fail."""
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for message in self._ws:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    continue
                decoded = message.json()
                for item in decoded if isinstance(decoded, list) else [decoded]:
                    self._dispatch(item)
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(HassApiError("the WebSocket connection closed"))

    def _dispatch(self, item: dict[str, Any]) -> None:
        if item.get("type") == "event" and item.get("id") in self._events:
            self._events[item["id"]].append(item["event"])
        elif (
            item.get("type") == "result"
            and (future := self._pending.pop(item["id"], None)) is not None
            and not future.done()
        ):
            future.set_result(item)

    async def command(self, message: dict[str, Any]) -> Any:
        """Send a command and wait for its result; raise HassApiError for an error."""
        assert self._ws is not None, "use HassSocket with async with"
        self._next_id += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[self._next_id] = future
        await self._ws.send_json({"id": self._next_id, **message})
        reply = await future
        if not reply["success"]:
            raise HassApiError(f"{message['type']}: {reply['error']}")
        return reply["result"]

    async def call_service(self, domain: str, service: str, data: dict[str, Any]) -> Any:
        """Call a service action and wait until it has finished."""
        return await self.command(
            {"type": "call_service", "domain": domain, "service": service, "service_data": data}
        )

    async def subscribe_events(self, event_type: str) -> list[dict[str, Any]]:
        """Subscribe to ``event_type``; return the list its events are appended to."""
        self._next_id += 1
        subscription = self._next_id
        events: list[dict[str, Any]] = []
        self._events[subscription] = events
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[subscription] = future
        assert self._ws is not None, "use HassSocket with async with"
        await self._ws.send_json(
            {"id": subscription, "type": "subscribe_events", "event_type": event_type}
        )
        reply = await future
        if not reply["success"]:
            raise HassApiError(f"subscribe_events: {reply['error']}")
        return events
