"""A local aiohttp server on a thread of its own, for download and refetch tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import json
import threading
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class HttpServer:
    """Serves ``routes`` (path → handler) on 127.0.0.1; records every request."""

    def __init__(self) -> None:
        """Start serving on a free port."""
        self.routes: dict[str, Handler] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self.port = 0
        started = threading.Event()
        self._thread = threading.Thread(
            target=self._serve, args=(started,), name="test-http", daemon=True
        )
        self._thread.start()
        if not started.wait(5):
            raise TimeoutError("the test HTTP server did not start")

    def _serve(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        started.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.path, dict(request.headers)))
        handler = self.routes.get(request.path)
        if handler is None:
            raise web.HTTPNotFound
        return await handler(request)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        """Return the URL of ``path`` on this server."""
        return f"http://{host}:{self.port}{path}"

    def file(self, path: str, data: bytes) -> str:
        """Serve ``data`` at ``path``; return its URL."""

        async def handler(request: web.Request) -> web.Response:
            return web.Response(body=data, content_type="application/octet-stream")

        self.routes[path] = handler
        return self.url(path)

    def json(self, path: str, document: Any, token: str | None = None) -> str:
        """Serve a JSON document at ``path``, only with ``Bearer token`` when given."""

        async def handler(request: web.Request) -> web.Response:
            if token is not None and request.headers.get("Authorization") != f"Bearer {token}":
                raise web.HTTPUnauthorized
            body = document if isinstance(document, bytes) else json.dumps(document).encode()
            return web.Response(body=body, content_type="application/json")

        self.routes[path] = handler
        return self.url(path)

    def close(self) -> None:
        """Stop serving."""
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
