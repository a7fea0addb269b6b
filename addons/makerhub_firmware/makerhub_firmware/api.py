"""The HTTP API (JSON): repositories, sync, refs, validation, archives, webhooks.

Every route needs ``Authorization: Bearer <token>`` except two, which authenticate
otherwise: ``GET /api/download/{id}`` (a signed URL, for units) and
``POST /api/webhook/{repo_id}`` (the sender's HMAC signature). Requests that Home
Assistant already authenticated through ingress (from the Supervisor's ingress address,
with ``X-Ingress-Path``) are let through too. The routes are described for humans in
``DOCS.md`` and for machines in ``openapi.yaml``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
import hmac
import html
import json
import logging
from typing import Any, Final

from aiohttp import web

from .archive import CHUNK
from .errors import (
    FirmwareError,
    InvalidRequestError,
    NotFoundError,
    TooLargeError,
    UnauthorizedError,
)
from .payloads import parse_archive_request, parse_repo_changes
from .service import FirmwareService
from .webhook import MAX_BODY as MAX_WEBHOOK_BODY

_LOGGER = logging.getLogger(__name__)

SERVICE_KEY: Final = web.AppKey("service", FirmwareService)
MAX_JSON_BODY: Final = 256 * 1024
PUBLIC_ROUTES: Final = frozenset({"download", "webhook"})
"""Routes authenticated by a signature instead of the bearer token."""

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _service(request: web.Request) -> FirmwareService:
    return request.app[SERVICE_KEY]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, indent=1))


async def _body(request: web.Request, limit: int = MAX_JSON_BODY) -> Any:
    if request.content_length is not None and request.content_length > limit:
        raise TooLargeError(f"request body over {limit} bytes")
    raw = await _read_all(request, limit)
    if len(raw) > limit:
        raise TooLargeError(f"request body over {limit} bytes")
    try:
        return json.loads(raw or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InvalidRequestError(f"body: invalid JSON ({err})") from None


async def _read_all(request: web.Request, limit: int) -> bytes:
    """Read the whole body, stopping one byte past ``limit`` (chunked bodies too)."""
    parts: list[bytes] = []
    size = 0
    while size <= limit and (chunk := await request.content.read(limit + 1 - size)):
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn errors into JSON answers with a code; count refusals; hide internals."""
    try:
        return await handler(request)
    except FirmwareError as err:
        _service(request).refusals.count(err)
        response = _json(err.to_json(), err.status)
        if err.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="makerhub-firmware"'
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
    """Require the bearer token everywhere but the signature-authenticated routes."""
    route = request.match_info.route
    if route.name in PUBLIC_ROUTES or route.resource is None:
        return await handler(request)
    settings = _service(request).settings
    if (
        settings.trusted_ingress is not None
        and request.remote == settings.trusted_ingress
        and "X-Ingress-Path" in request.headers
    ):
        return await handler(request)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise UnauthorizedError("Authorization: Bearer <token> required")
    if not hmac.compare_digest(token.strip().encode(), settings.token.encode()):
        raise UnauthorizedError("invalid token")
    return await handler(request)


# --- routes ---------------------------------------------------------------------------


async def health(request: web.Request) -> web.Response:
    """Liveness and counters."""
    service = _service(request)
    return _json(
        {
            "status": "ok",
            "repositories": len(service.records),
            "refused": service.refusals.snapshot(),
        }
    )


async def index(request: web.Request) -> web.Response:
    """A small read-only status page for the add-on's ingress panel."""
    rows = "".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            html.escape(r.name),
            html.escape(r.url),
            "never" if r.last_sync is None else _iso(r.last_sync),
            html.escape(r.last_error or "ok"),
        )
        for r in _service(request).records.values()
    )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Makerhub firmware</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.3em 1em;"
        "text-align:left}</style></head><body><h1>Makerhub firmware</h1>"
        "<table><tr><th>Repository</th><th>URL</th><th>Last sync</th><th>Status</th></tr>"
        f"{rows}</table></body></html>"
    )
    return web.Response(text=page, content_type="text/html")


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


async def list_repos(request: web.Request) -> web.Response:
    """All repositories."""
    return _json([record.to_api() for record in _service(request).records.values()])


async def create_repo(request: web.Request) -> web.Response:
    """Register (and clone) a repository."""
    changes = parse_repo_changes(await _body(request), creating=True)
    record = await _service(request).add(changes)
    return _json(record.to_api(), 201)


async def get_repo(request: web.Request) -> web.Response:
    """One repository."""
    return _json(_service(request).get(request.match_info["repo_id"]).to_api())


async def update_repo(request: web.Request) -> web.Response:
    """Change a repository's settings."""
    changes = parse_repo_changes(await _body(request), creating=False)
    record = await _service(request).update(request.match_info["repo_id"], changes)
    return _json(record.to_api())


async def delete_repo(request: web.Request) -> web.Response:
    """Forget a repository."""
    await _service(request).delete(request.match_info["repo_id"])
    return web.Response(status=204)


async def sync_repo(request: web.Request) -> web.Response:
    """Sync now; the answer is the record, with ``last_error`` if it failed."""
    record = await _service(request).sync(request.match_info["repo_id"])
    return _json(record.to_api())


async def repo_refs(request: web.Request) -> web.Response:
    """Branches, tags and recent commits."""
    return _json(await _service(request).refs(request.match_info["repo_id"]))


async def validate_repo(request: web.Request) -> web.Response:
    """Validate at ``?ref=`` (default: the default branch)."""
    result = await _service(request).validate(
        request.match_info["repo_id"], request.query.get("ref")
    )
    return _json(result.to_json())


async def build_archive(request: web.Request) -> web.Response:
    """Build (or reuse) a unit archive and answer with its signed download URL."""
    service = _service(request)
    archive_request = parse_archive_request(await _body(request))
    record = await service.build_archive(request.match_info["repo_id"], archive_request)
    path, url, expires = service.signed_path(record.id, archive_request.expires_in)
    return _json({**record.to_api(), "path": path, "url": url, "expires": expires}, 201)


async def get_archive(request: web.Request) -> web.Response:
    """An archive's record."""
    return _json(_service(request).archive(request.match_info["archive_id"]).to_api())


async def sign_archive(request: web.Request) -> web.Response:
    """A new signed download URL for an archive."""
    service = _service(request)
    body = await _body(request)
    ttl = body.get("expires_in") if isinstance(body, dict) else None
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int)):
        raise InvalidRequestError("expires_in: an integer number of seconds")
    archive = service.archive(request.match_info["archive_id"])
    path, url, expires = service.signed_path(archive.id, ttl)
    return _json(
        {
            "path": path,
            "url": url,
            "expires": expires,
            "sha256": archive.sha256,
            "size": archive.size,
        }
    )


async def archive_content(request: web.Request) -> web.StreamResponse:
    """Download with the bearer token (for Home Assistant itself)."""
    return await _stream_archive(request)


async def download(request: web.Request) -> web.StreamResponse:
    """Download through a signed URL (for units)."""
    service = _service(request)
    service.signer.verify(
        request.path, request.query.get("expires"), request.query.get("signature")
    )
    return await _stream_archive(request)


async def _stream_archive(request: web.Request) -> web.StreamResponse:
    service = _service(request)
    archive = service.archive(request.match_info["archive_id"])
    tail = await asyncio.to_thread(service.cache.load_tail, archive.id)
    body_path = service.cache.body_path(archive.body)
    try:
        body_file = await asyncio.to_thread(body_path.open, "rb")
    except FileNotFoundError:
        raise NotFoundError("archive body was evicted; build it again") from None
    service.cache.touch(archive.body)
    filename = f"{archive.repo}-{archive.commit[:12]}.{archive.format.value}"
    response = web.StreamResponse(
        headers={
            "Content-Type": archive.format.media_type,
            "Content-Length": str(archive.size),
            "Content-Disposition": f'attachment; filename="{filename}"',
            "ETag": f'"{archive.sha256}"',
            "X-Archive-Sha256": archive.sha256,
            "Cache-Control": "no-store",
        }
    )
    await response.prepare(request)
    try:
        while chunk := await asyncio.to_thread(body_file.read, CHUNK):
            await response.write(chunk)
    finally:
        await asyncio.to_thread(body_file.close)
    await response.write(tail)
    await response.write_eof()
    return response


async def webhook(request: web.Request) -> web.Response:
    """GitHub/Gitea push webhook, authenticated by its HMAC signature."""
    raw = await _read_all(request, MAX_WEBHOOK_BODY)
    if len(raw) > MAX_WEBHOOK_BODY:
        raise TooLargeError(f"webhook body over {MAX_WEBHOOK_BODY} bytes")
    result = await _service(request).webhook(request.match_info["repo_id"], request.headers, raw)
    return _json(result, 202 if result["queued"] else 200)


ROUTES: Final[list[tuple[str, str, Handler, str]]] = [
    ("GET", "/", index, "index"),
    ("GET", "/api/health", health, "health"),
    ("GET", "/api/repos", list_repos, "list_repos"),
    ("POST", "/api/repos", create_repo, "create_repo"),
    ("GET", "/api/repos/{repo_id}", get_repo, "get_repo"),
    ("PATCH", "/api/repos/{repo_id}", update_repo, "update_repo"),
    ("DELETE", "/api/repos/{repo_id}", delete_repo, "delete_repo"),
    ("POST", "/api/repos/{repo_id}/sync", sync_repo, "sync_repo"),
    ("GET", "/api/repos/{repo_id}/refs", repo_refs, "repo_refs"),
    ("GET", "/api/repos/{repo_id}/validate", validate_repo, "validate_repo"),
    ("POST", "/api/repos/{repo_id}/archives", build_archive, "build_archive"),
    ("GET", "/api/archives/{archive_id}", get_archive, "get_archive"),
    ("GET", "/api/archives/{archive_id}/content", archive_content, "archive_content"),
    ("POST", "/api/archives/{archive_id}/url", sign_archive, "sign_archive"),
    ("GET", "/api/download/{archive_id}", download, "download"),
    ("POST", "/api/webhook/{repo_id}", webhook, "webhook"),
]


def create_app(service: FirmwareService) -> web.Application:
    """Return the application; it starts and stops ``service`` with itself."""
    app = web.Application(
        middlewares=[error_middleware, auth_middleware],
        client_max_size=MAX_WEBHOOK_BODY + 1024,
    )
    app[SERVICE_KEY] = service
    for method, path, handler, name in ROUTES:
        app.router.add_route(method, path, handler, name=name)

    async def lifecycle(_: web.Application) -> AsyncIterator[None]:
        await service.start()
        yield
        await service.stop()

    app.cleanup_ctx.append(lifecycle)
    return app
