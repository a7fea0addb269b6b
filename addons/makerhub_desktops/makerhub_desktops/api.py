"""The HTTP API (JSON), the noVNC page and the WebSocket → VNC proxy.

Every ``/api`` route needs ``Authorization: Bearer <token>``; requests Home Assistant
already authenticated through ingress (from the Supervisor's ingress address, with
``X-Ingress-Path``) are let through too. The viewer page (``/desktop``), the WebSocket
(``/websockify``) and noVNC's static files are public: the first two need a connect token
(short-lived, single-use, one desktop, one role), the files are noVNC's own. The routes
are described for humans in ``DOCS.md`` and for machines in ``openapi.yaml``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
import hmac
import html
import json
import logging
from typing import Any, Final
from urllib.parse import quote

from aiohttp import WSMsgType, web

from .discovery import announce, discovery_config
from .errors import (
    BadConnectTokenError,
    DesktopError,
    InvalidRequestError,
    RefusalCounter,
    UnauthorizedError,
)
from .manager import Desktop, DesktopManager, RepositorySpec
from .novnc import kiosk_page, preloaded_page
from .rfb import ClientStreamFilter, ProtocolError
from .tokens import Role

_LOGGER = logging.getLogger(__name__)

MANAGER_KEY: Final = web.AppKey("manager", DesktopManager)
REFUSALS_KEY: Final = web.AppKey("refusals", RefusalCounter)
MAX_JSON_BODY: Final = 64 * 1024
KIOSK: Final = "kiosk"
"""``?kiosk=1`` on the desktop page: noVNC without its control bar and status banners."""
PUBLIC_ROUTES: Final = frozenset({"desktop_page", "websockify"})
"""Routes authenticated by a connect token instead of the bearer token."""
READ_CHUNK: Final = 256 * 1024

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _manager(request: web.Request) -> DesktopManager:
    return request.app[MANAGER_KEY]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, indent=1))


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.content.read(MAX_JSON_BODY + 1)
    if len(raw) > MAX_JSON_BODY:
        raise InvalidRequestError(f"request body over {MAX_JSON_BODY} bytes")
    try:
        body = json.loads(raw or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InvalidRequestError(f"body: invalid JSON ({err})") from None
    if not isinstance(body, dict):
        raise InvalidRequestError("body: a JSON object")
    return body


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn errors into JSON answers with a code; count refusals; hide internals."""
    try:
        return await handler(request)
    except DesktopError as err:
        request.app[REFUSALS_KEY].count(err)
        response = _json(err.to_json(), err.status)
        if err.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="makerhub-desktops"'
        return response
    except web.HTTPException as err:
        if err.status < 400:
            raise
        return _json({"error": "http", "message": err.reason}, err.status)
    except Exception:
        _LOGGER.exception("unexpected error in %s %s", request.method, request.path)
        return _json({"error": "internal", "message": "internal error; see the log"}, 500)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Require the bearer token everywhere but the connect-token routes and noVNC."""
    route = request.match_info.route
    if route.name in PUBLIC_ROUTES or route.resource is None or request.path.startswith("/novnc/"):
        return await handler(request)
    settings = _manager(request).settings
    if (
        settings.trusted_ingress is not None
        and request.remote == settings.trusted_ingress
        and "X-Ingress-Path" in request.headers
    ):
        return await handler(request)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise UnauthorizedError("Authorization: Bearer <token> required")
    if not hmac.compare_digest(token.strip().encode(), settings.token.encode()):
        raise UnauthorizedError("invalid token")
    return await handler(request)


# --- API ------------------------------------------------------------------------------


async def health(request: web.Request) -> web.Response:
    """Liveness, desktops by state, refusals by code."""
    manager = _manager(request)
    return _json(
        {
            "status": "ok",
            "desktops": manager.counts(),
            "refused": request.app[REFUSALS_KEY].snapshot(),
        }
    )


async def index(request: web.Request) -> web.Response:
    """A small read-only status page for the add-on's ingress panel."""
    rows = "".join(
        f"<tr><td>{html.escape(d.project)}</td><td>{d.record.state.value}</td>"
        f"<td>{d.connections}</td><td>{html.escape(d.record.url or '—')}</td></tr>"
        for d in _manager(request)
    )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Makerhub desktops</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.3em 1em;"
        "text-align:left}</style></head><body><h1>Makerhub desktops</h1>"
        "<table><tr><th>Project</th><th>State</th><th>Connected</th><th>Repository</th></tr>"
        f"{rows}</table></body></html>"
    )
    return web.Response(text=page, content_type="text/html")


async def list_desktops(request: web.Request) -> web.Response:
    """Every desktop."""
    return _json([desktop.to_api() for desktop in _manager(request)])


async def get_desktop(request: web.Request) -> web.Response:
    """One desktop."""
    return _json(_manager(request).get(request.match_info["project"]).to_api())


def _repository(body: dict[str, Any]) -> RepositorySpec | None:
    raw = body.get("repository")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InvalidRequestError("repository: an object with url (and token, username)")
    credential = raw.get("token")
    username = raw.get("username", "x-access-token")
    if credential is not None and not isinstance(credential, str):
        raise InvalidRequestError("repository.token: a string")
    if not isinstance(username, str) or not username or ":" in username:
        raise InvalidRequestError("repository.username: a user name without ':'")
    return RepositorySpec(str(raw.get("url") or ""), credential or None, username)


async def start_desktop(request: web.Request) -> web.Response:
    """Start (or resume) a desktop; the first start clones the repository."""
    project = request.match_info["project"]
    body = await _body(request)
    scratch_ttl = body.get("scratch_ttl")
    if scratch_ttl is not None and (
        isinstance(scratch_ttl, bool)
        or not isinstance(scratch_ttl, int | float)
        or scratch_ttl <= 0
    ):
        raise InvalidRequestError("scratch_ttl: a positive number of seconds")
    desktop = await _manager(request).ensure_running(project, _repository(body), scratch_ttl)
    return _json(desktop.to_api())


async def stop_desktop(request: web.Request) -> web.Response:
    """Stop a desktop; its workspace is kept."""
    return _json((await _manager(request).stop(request.match_info["project"])).to_api())


async def suspend_desktop(request: web.Request) -> web.Response:
    """Suspend a desktop now."""
    return _json((await _manager(request).suspend(request.match_info["project"])).to_api())


async def delete_desktop(request: web.Request) -> web.Response:
    """Forget a desktop: its user, home and workspace are deleted."""
    await _manager(request).forget(request.match_info["project"])
    return web.Response(status=204)


async def connect_desktop(request: web.Request) -> web.Response:
    """Issue a connect token for a role; the URLs are relative to the service's root."""
    manager = _manager(request)
    desktop = manager.get(request.match_info["project"])
    body = await _body(request)
    try:
        role = Role(body.get("role", Role.VIEWER))
    except ValueError:
        raise InvalidRequestError("role: controller or viewer") from None
    ttl = body.get("ttl")
    if ttl is not None and (
        isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 < ttl <= 600
    ):
        raise InvalidRequestError("ttl: 1 to 600 seconds")
    token, grant = manager.tokens.issue(desktop.project, role, ttl)
    return _json(
        {
            "project": desktop.project,
            "role": role.value,
            "token": token,
            "expires": grant.expires,
            "url": f"desktop?token={token}",
            "websocket": f"websockify?token={token}",
        },
        201,
    )


# --- browser --------------------------------------------------------------------------


def _kiosk(request: web.Request) -> bool:
    value = request.query.get(KIOSK, "0")
    if value not in ("0", "1"):
        raise InvalidRequestError(f"{KIOSK}: 0 or 1")
    return value == "1"


async def desktop_page(request: web.Request) -> web.StreamResponse:
    """Send the browser to noVNC, connecting back through ``/websockify`` with the token
    (``kiosk=1``: to the page without noVNC's control bar, for a display)."""
    token = request.query.get("token", "")
    grant = _manager(request).tokens.peek(token)
    kiosk = _kiosk(request)
    prefix = request.headers.get("X-Ingress-Path", "").strip("/")
    path = f"{prefix}/websockify?token={token}".lstrip("/")
    options = {
        "autoconnect": "1",
        "reconnect": "0",
        "path": path,
        "resize": "remote" if grant.role is Role.CONTROLLER else "scale",
        "view_only": "0" if grant.role is Role.CONTROLLER else "1",
    }
    if kiosk:
        options[KIOSK] = "1"
    query = "&".join(f"{key}={quote(value, safe='')}" for key, value in options.items())
    raise web.HTTPFound(f"novnc/vnc.html?{query}")


async def websockify(request: web.Request) -> web.StreamResponse:
    """Proxy one client to its desktop's Xvnc, filtering a viewer's input away."""
    manager = _manager(request)
    token = request.query.get("token", "")
    grant = manager.tokens.peek(token)
    # Attach first: a refusal (a controller already there, no capacity) keeps the token.
    desktop = await manager.attach(grant.project, grant.role)
    try:
        manager.tokens.redeem(token)  # a second use racing this one fails here
    except BadConnectTokenError:
        manager.detach(desktop, grant.role)
        raise
    try:
        reader, writer = await asyncio.open_unix_connection(str(desktop.paths.socket))
    except OSError:
        manager.detach(desktop, grant.role)
        raise
    ws = web.WebSocketResponse(protocols=("binary",), max_msg_size=4 * 1024 * 1024)
    try:
        await ws.prepare(request)
        await _pump(ws, reader, writer, desktop, ClientStreamFilter(grant.role is Role.VIEWER))
    finally:
        manager.detach(desktop, grant.role)
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return ws


async def _pump(
    ws: web.WebSocketResponse,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    desktop: Desktop,
    stream_filter: ClientStreamFilter,
) -> None:
    async def server_to_client() -> None:
        while data := await reader.read(READ_CHUNK):
            await ws.send_bytes(data)
        await ws.close()

    downstream = asyncio.create_task(server_to_client())
    try:
        async for message in ws:
            if message.type is not WSMsgType.BINARY:
                await ws.close(code=1003, message=b"binary frames only")
                break
            dropped = stream_filter.dropped
            try:
                allowed = stream_filter.feed(message.data)
            except ProtocolError as err:
                _LOGGER.info("closing a client: %s", err)
                await ws.close(code=1008, message=b"protocol error")
                break
            desktop.dropped_input += stream_filter.dropped - dropped
            if allowed:
                writer.write(allowed)
                await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        downstream.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
            await downstream


ROUTES: Final[list[tuple[str, str, Handler, str]]] = [
    ("GET", "/", index, "index"),
    ("GET", "/api/health", health, "health"),
    ("GET", "/api/desktops", list_desktops, "list_desktops"),
    ("GET", "/api/desktops/{project}", get_desktop, "get_desktop"),
    ("DELETE", "/api/desktops/{project}", delete_desktop, "delete_desktop"),
    ("POST", "/api/desktops/{project}/start", start_desktop, "start_desktop"),
    ("POST", "/api/desktops/{project}/stop", stop_desktop, "stop_desktop"),
    ("POST", "/api/desktops/{project}/suspend", suspend_desktop, "suspend_desktop"),
    ("POST", "/api/desktops/{project}/connect", connect_desktop, "connect_desktop"),
    ("GET", "/desktop", desktop_page, "desktop_page"),
    ("GET", "/websockify", websockify, "websockify"),
]


def create_app(manager: DesktopManager, *, ticker: bool = True) -> web.Application:
    """Return the application; it starts and stops ``manager`` with itself.

    ``ticker`` runs :meth:`DesktopManager.tick` every ``tick_interval`` seconds (tests
    with a manual clock turn it off and call ``tick`` themselves).
    """
    app = web.Application(middlewares=[error_middleware, auth_middleware])
    app[MANAGER_KEY] = manager
    app[REFUSALS_KEY] = RefusalCounter()
    for method, path, handler, name in ROUTES:
        app.router.add_route(method, path, handler, name=name)
    if manager.settings.novnc_dir.is_dir():
        if (page := preloaded_page(manager.settings.novnc_dir)) is not None:
            app.router.add_get(
                "/novnc/vnc.html", _novnc_page(page, kiosk_page(page)), name="novnc_page"
            )
        app.router.add_static("/novnc/", manager.settings.novnc_dir, name="novnc")

    async def lifecycle(_: web.Application) -> AsyncIterator[None]:
        await manager.start()
        tasks: list[asyncio.Task[Any]] = []
        if ticker:
            tasks.append(asyncio.create_task(_tick_forever(manager)))
        settings = manager.settings
        if settings.supervisor_token:
            tasks.append(
                asyncio.create_task(
                    announce(
                        settings.supervisor_token,
                        discovery_config(settings.port, settings.token),
                        settings.supervisor_url,
                    )
                )
            )
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await manager.close()

    app.cleanup_ctx.append(lifecycle)
    return app


def _novnc_page(page: str, kiosk: str) -> Handler:
    """Serve noVNC's page with its modules preloaded, ``kiosk=1`` its kiosk form
    (``novnc.py``)."""

    async def novnc_page(request: web.Request) -> web.Response:
        return web.Response(text=kiosk if _kiosk(request) else page, content_type="text/html")

    return novnc_page


async def _tick_forever(manager: DesktopManager) -> None:
    while True:
        await asyncio.sleep(manager.settings.tick_interval)
        try:
            await manager.tick()
        except Exception:
            _LOGGER.exception("lifecycle tick failed")
