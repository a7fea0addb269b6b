"""The HTTP API (JSON, and the recorded files).

Every route but ``/`` needs ``Authorization: Bearer <token>``; requests Home Assistant
already authenticated through ingress (from the Supervisor's ingress address, with
``X-Ingress-Path``) are let through too. Files are served with ``Range`` support; only
finished segments and joined time-lapses are ever served. The routes are described for
humans in ``DOCS.md`` and for machines in ``openapi.yaml``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import hmac
import html
import json
import logging
from pathlib import Path
import tempfile
from typing import Any, Final

from aiohttp import web

from .discovery import announce, discovery_config
from .errors import InvalidRequestError, RecorderError, RefusalCounter, UnauthorizedError
from .joined import JoinedRecordings, check_recording_id
from .live import LiveViewers, check_live_signature, serve_live
from .service import RecorderService
from .timelapse import NO_PROJECT, TimelapseKey
from .validation import check_camera_id, check_day, check_file_name, check_project_id

_LOGGER = logging.getLogger(__name__)

SERVICE_KEY: Final = web.AppKey("service", RecorderService)
REFUSALS_KEY: Final = web.AppKey("refusals", RefusalCounter)
LIVE_KEY: Final = web.AppKey("live", LiveViewers)
JOINED_KEY: Final = web.AppKey("joined", JoinedRecordings)
MAX_JSON_BODY: Final = 64 * 1024
PUBLIC_ROUTES: Final = frozenset({"index"})
SIGNED_ROUTES: Final = frozenset({"live"})
"""Routes also opened by a signed address (``?expires=&auth=``) instead of the token."""
MAX_CLIP_SECONDS: Final = 3600

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _service(request: web.Request) -> RecorderService:
    return request.app[SERVICE_KEY]


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


def _camera_id(request: web.Request) -> str:
    return check_camera_id(request.match_info["camera"])


def _query(request: web.Request, key: str) -> str | None:
    value = request.query.get(key)
    return value if value else None


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn errors into JSON answers with a code; count refusals; hide internals."""
    try:
        return await handler(request)
    except RecorderError as err:
        request.app[REFUSALS_KEY].count(err)
        response = _json(err.to_json(), err.status)
        if err.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="makerhub-recorder"'
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
    """Require the bearer token everywhere but the status page."""
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
    if route.name in SIGNED_ROUTES and "auth" in request.query:
        check_live_signature(
            settings.token,
            request.match_info["camera"],
            request.query.get("expires", ""),
            request.query["auth"],
            _service(request).now(),
        )
        return await handler(request)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise UnauthorizedError("Authorization: Bearer <token> required")
    if not hmac.compare_digest(token.strip().encode(), settings.token.encode()):
        raise UnauthorizedError("invalid token")
    return await handler(request)


async def index(request: web.Request) -> web.Response:
    """A small page for the ingress panel: cameras and their status (no addresses)."""
    rows = "".join(
        f"<tr><td>{html.escape(r.camera.name)}</td><td>{r.status}</td>"
        f"<td>{'yes' if r.state.active else 'no'}</td></tr>"
        for r in _service(request)
    )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Makerhub recorder</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.3em 1em;"
        "text-align:left}</style></head><body><h1>Makerhub recorder</h1>"
        "<table><tr><th>Camera</th><th>Status</th><th>Space active</th></tr>"
        f"{rows}</table></body></html>"
    )
    return web.Response(text=page, content_type="text/html")


async def health(request: web.Request) -> web.Response:
    """Liveness, cameras by status, refusals by code."""
    service = _service(request)
    return _json(
        {
            "status": "ok",
            "cameras": service.counts(),
            "refused": request.app[REFUSALS_KEY].snapshot(),
            "floor_reached": service.storage()["floor_reached"],
        }
    )


async def list_cameras(request: web.Request) -> web.Response:
    """Every camera with its status."""
    return _json([recorder.to_api() for recorder in _service(request)])


async def add_camera(request: web.Request) -> web.Response:
    """Add a camera."""
    recorder = await _service(request).add_camera(await _body(request))
    return _json(recorder.to_api(), 201)


async def get_camera(request: web.Request) -> web.Response:
    """One camera."""
    return _json(_service(request).get(_camera_id(request)).to_api())


async def update_camera(request: web.Request) -> web.Response:
    """Change a camera."""
    body = await _body(request)
    return _json(_service(request).update_camera(_camera_id(request), body).to_api())


async def delete_camera(request: web.Request) -> web.Response:
    """Forget a camera (``?delete_files=true`` deletes its recordings and time-lapses)."""
    delete_files = request.query.get("delete_files", "false")
    if delete_files not in {"true", "false"}:
        raise InvalidRequestError("delete_files: true or false")
    await _service(request).remove_camera(_camera_id(request), delete_files == "true")
    return web.Response(status=204)


async def start_recording(request: web.Request) -> web.Response:
    """Record until stopped, from ``pre_roll`` seconds ago."""
    recorder = _service(request).get(_camera_id(request))
    span = recorder.start_recording()
    return _json({"recording": span.id, "start": span.start, "camera": recorder.to_api()})


async def stop_recording(request: web.Request) -> web.Response:
    """Stop the running recording."""
    recorder = _service(request).get(_camera_id(request))
    span = recorder.stop_recording()
    return _json(
        {
            "recording": None if span is None else span.id,
            "end": None if span is None else span.end,
            "camera": recorder.to_api(),
        }
    )


async def record_clip(request: web.Request) -> web.Response:
    """Record a clip: ``duration`` seconds from now, with up to ``pre_roll`` before."""
    body = await _body(request)
    recorder = _service(request).get(_camera_id(request))
    duration = body.get("duration")
    pre_roll = body.get("pre_roll")
    if isinstance(duration, bool) or not isinstance(duration, int | float):
        raise InvalidRequestError("duration: seconds, a number")
    if not 0 < duration <= MAX_CLIP_SECONDS:
        raise InvalidRequestError(f"duration: more than 0, at most {MAX_CLIP_SECONDS} seconds")
    if pre_roll is not None and (
        isinstance(pre_roll, bool) or not isinstance(pre_roll, int | float) or pre_roll < 0
    ):
        raise InvalidRequestError("pre_roll: seconds, a number >= 0")
    span = recorder.record_clip(float(duration), None if pre_roll is None else float(pre_roll))
    return _json({"recording": span.id, "start": span.start, "end": span.end}, 201)


async def set_activity(request: web.Request) -> web.Response:
    """Whether the camera's space is active and the project worked on there."""
    body = await _body(request)
    unknown = set(body) - {"active", "project"}
    if unknown:
        raise InvalidRequestError(f"unknown field(s): {', '.join(sorted(unknown))}")
    service = _service(request)
    recorder = service.set_activity(_camera_id(request), body.get("active"), body.get("project"))
    return _json(recorder.to_api())


async def snapshot(request: web.Request) -> web.Response:
    """The latest picture, JPEG."""
    recorder = _service(request).get(_camera_id(request))
    with tempfile.TemporaryDirectory(prefix="snapshot-") as folder:
        output = Path(folder) / "snapshot.jpg"
        await recorder.snapshot(output)
        data = await asyncio.to_thread(output.read_bytes)
    return web.Response(body=data, content_type="image/jpeg", headers={"Cache-Control": "no-store"})


async def camera_recordings(request: web.Request) -> web.Response:
    """One camera's recordings (``?day=YYYY-MM-DD``)."""
    day = _query(request, "day")
    recorder = _service(request).get(_camera_id(request))
    return _json(recorder.recordings(None if day is None else check_day(day)))


async def list_recordings(request: web.Request) -> web.Response:
    """Every camera's recordings (``?camera=``, ``?day=``)."""
    service = _service(request)
    camera = _query(request, "camera")
    day = _query(request, "day")
    checked_day = None if day is None else check_day(day)
    recorders = [service.get(check_camera_id(camera))] if camera else list(service)
    return _json([entry for r in recorders for entry in r.recordings(checked_day)])


async def segment_file(request: web.Request) -> web.StreamResponse:
    """A finished segment (``video/mp4``, ``Range`` supported)."""
    recorder = _service(request).get(_camera_id(request))
    path = recorder.segment_path(check_file_name(request.match_info["name"]))
    return web.FileResponse(path, headers={"Content-Type": "video/mp4"})


async def recording_file(request: web.Request) -> web.StreamResponse:
    """A whole recording as one MP4 (its segments joined without re-encoding)."""
    recorder = _service(request).get(_camera_id(request))
    recording = check_recording_id(request.match_info["recording"])
    path = await request.app[JOINED_KEY].build(recorder, recording)
    return web.FileResponse(path, headers={"Content-Type": "video/mp4"})


async def live(request: web.Request) -> web.StreamResponse:
    """An RTSP camera's live video, MPEG-TS (``-c copy``), until the client leaves."""
    recorder = _service(request).get(_camera_id(request))
    return await serve_live(request, recorder, request.app[LIVE_KEY])


async def list_timelapses(request: web.Request) -> web.Response:
    """Time-lapses (``?camera=``, ``?day=``, ``?project=``)."""
    camera = _query(request, "camera")
    day = _query(request, "day")
    project = _query(request, "project")
    return _json(
        _service(request).timelapse_listing(
            None if camera is None else check_camera_id(camera),
            None if day is None else check_day(day),
            None if project is None else _project_folder(project),
        )
    )


def _project_folder(project: str) -> str:
    return project if project == NO_PROJECT else check_project_id(project)


async def timelapse_file(request: web.Request) -> web.StreamResponse:
    """A day's time-lapse of a project (``_none``: no project), joined on demand."""
    service = _service(request)
    camera = service.get(_camera_id(request)).camera.id
    key = TimelapseKey(
        camera,
        check_day(request.match_info["day"]),
        _project_folder(request.match_info["project"]),
    )
    path = await service.timelapses.build(key)
    return web.FileResponse(path, headers={"Content-Type": "video/mp4"})


async def storage(request: web.Request) -> web.Response:
    """Used and free space, the oldest recording, early deletions."""
    return _json(_service(request).storage())


ROUTES: Final[list[tuple[str, str, Handler, str]]] = [
    ("GET", "/", index, "index"),
    ("GET", "/api/health", health, "health"),
    ("GET", "/api/cameras", list_cameras, "list_cameras"),
    ("POST", "/api/cameras", add_camera, "add_camera"),
    ("GET", "/api/cameras/{camera}", get_camera, "get_camera"),
    ("PATCH", "/api/cameras/{camera}", update_camera, "update_camera"),
    ("DELETE", "/api/cameras/{camera}", delete_camera, "delete_camera"),
    ("POST", "/api/cameras/{camera}/recording/start", start_recording, "start_recording"),
    ("POST", "/api/cameras/{camera}/recording/stop", stop_recording, "stop_recording"),
    ("POST", "/api/cameras/{camera}/clips", record_clip, "record_clip"),
    ("PUT", "/api/cameras/{camera}/activity", set_activity, "set_activity"),
    ("GET", "/api/cameras/{camera}/snapshot", snapshot, "snapshot"),
    ("GET", "/api/cameras/{camera}/recordings", camera_recordings, "camera_recordings"),
    ("GET", "/api/cameras/{camera}/segments/{name}", segment_file, "segment_file"),
    ("GET", "/api/cameras/{camera}/recordings/{recording}/file", recording_file, "recording_file"),
    ("GET", "/api/cameras/{camera}/live", live, "live"),
    ("GET", "/api/recordings", list_recordings, "list_recordings"),
    ("GET", "/api/timelapses", list_timelapses, "list_timelapses"),
    ("GET", "/api/timelapses/{camera}/{day}/{project}", timelapse_file, "timelapse_file"),
    ("GET", "/api/storage", storage, "storage"),
]


def create_app(service: RecorderService, *, housekeeping: bool = True) -> web.Application:
    """Return the application; it starts and stops ``service`` with itself.

    ``housekeeping`` runs time-lapse frames and retention every ``housekeeping_interval``
    seconds (tests turn it off and call :meth:`RecorderService.housekeep` themselves).
    """
    app = web.Application(middlewares=[error_middleware, auth_middleware])
    app[SERVICE_KEY] = service
    app[REFUSALS_KEY] = RefusalCounter()
    app[LIVE_KEY] = LiveViewers()
    app[JOINED_KEY] = JoinedRecordings()
    for method, path, handler, name in ROUTES:
        app.router.add_route(method, path, handler, name=name)

    async def lifecycle(_: web.Application) -> AsyncIterator[None]:
        await service.start(housekeeping=housekeeping)
        tasks: list[asyncio.Task[Any]] = []
        settings = service.settings
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
        await service.close()

    app.cleanup_ctx.append(lifecycle)
    return app
