"""Client of the Makerhub recorder service (the ``makerhub_recorder`` add-on's HTTP API).

Pure Python (aiohttp only, no Home Assistant imports, nothing from the add-on's package).
Every call sends ``Authorization: Bearer <token>`` and has a timeout; every failure is a
:class:`RecorderError` whose subclass follows the service's error code (``unknown_camera``,
``refused``, ``unavailable``…) or says that the service could not be reached.

The routes are those of the add-on's ``openapi.yaml``: health, cameras, recording
start/stop, clips, activity (space active and project, for time-lapses), snapshots,
recordings, time-lapses, storage, and the files (segments and time-lapses, ``Range``
passed through for the Home Assistant view that proxies them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
import hashlib
import hmac
import re
from typing import Any, Final
from urllib.parse import quote

import aiohttp

from .service_client import ServiceClient, ServiceError, error_answer, error_class

DEFAULT_TIMEOUT: Final = 30.0
"""Seconds for a call (a time-lapse file is encoded on demand: see FILE_TIMEOUT)."""
FILE_TIMEOUT: Final = 300.0
"""Seconds until a file's answer starts (a time-lapse's waiting frames are encoded first)."""
ID_RE: Final = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?$")
"""The service's camera and project ids (checked here too: nothing odd reaches a path)."""
SEGMENT_RE: Final = re.compile(r"^[a-z0-9][a-z0-9_-]{0,80}\.mp4$")
DAY_RE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
RECORDING_RE: Final = re.compile(r"^\d{13}-[0-9a-f]{4}$")
NO_PROJECT: Final = "_none"
"""The time-lapse of frames taken with no project active."""


class CameraStatus(StrEnum):
    """A camera's status as the service reports it."""

    RECORDING = "recording"
    IDLE = "idle"
    RECONNECTING = "reconnecting"
    ERROR = "error"


# --- errors -------------------------------------------------------------------------------


class RecorderError(ServiceError):
    """The recorder service refused a request, failed, or could not be reached."""


class RecorderConnectionError(RecorderError):
    """The service could not be reached, or did not answer in time."""

    default_code = "unreachable"


class RecorderAuthError(RecorderError):
    """The service refused the API token (401)."""

    default_code = "unauthorized"


class RecorderRequestError(RecorderError):
    """The request was malformed (400)."""

    default_code = "invalid_request"


class RecorderUnknownCameraError(RecorderError):
    """No such camera (404 ``unknown_camera``)."""

    default_code = "unknown_camera"


class RecorderNotFoundError(RecorderError):
    """No such finished file (404 ``not_found``)."""

    default_code = "not_found"


class RecorderRefusedError(RecorderError):
    """Hostile or unacceptable input (422)."""

    default_code = "refused"


class RecorderUnavailableError(RecorderError):
    """The camera gives no picture now (503)."""

    default_code = "unavailable"


class RecorderServiceError(RecorderError):
    """The service failed (5xx) or answered something not understood."""

    default_code = "internal"


_BY_CODE: Final[dict[str, type[RecorderError]]] = {
    "invalid_request": RecorderRequestError,
    "unauthorized": RecorderAuthError,
    "unknown_camera": RecorderUnknownCameraError,
    "not_found": RecorderNotFoundError,
    "refused": RecorderRefusedError,
    "unavailable": RecorderUnavailableError,
    "internal": RecorderServiceError,
}
_BY_STATUS: Final[dict[int, type[RecorderError]]] = {
    400: RecorderRequestError,
    401: RecorderAuthError,
    404: RecorderNotFoundError,
    422: RecorderRefusedError,
    503: RecorderUnavailableError,
}


# --- records ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Camera:
    """A camera as the service shows it (its source never carries credentials)."""

    id: str
    name: str
    kind: str
    source: str
    status: CameraStatus
    has_credentials: bool = False
    serial: str | None = None
    recording: bool = False
    active: bool = False
    project: str | None = None
    last_error: str | None = None
    reconnects: int = 0
    lost_since: float | None = None
    """The start of the open gap (the camera is lost), None while pictures arrive."""
    used_bytes: int = 0
    oldest_recording: float | None = None


@dataclass(frozen=True, slots=True)
class Storage:
    """``GET /api/storage``: the recordings' disk."""

    used_bytes: int
    free_bytes: int
    total_bytes: int
    free_floor_bytes: int
    floor_reached: bool
    oldest_recording: float | None
    early_deletions: int
    early_deleted_bytes: int


@dataclass(frozen=True, slots=True)
class Segment:
    """A finished segment of a recording, playable on its own."""

    name: str
    start: float
    end: float
    size: int


@dataclass(frozen=True, slots=True)
class Recording:
    """A recording: continuous (until stopped) or a clip."""

    id: str
    camera: str
    kind: str
    start: float
    end: float | None
    day: str
    segments: tuple[Segment, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Timelapse:
    """A day's time-lapse of a project (``project`` None: no project was active)."""

    camera: str
    day: str
    project: str | None
    chunks: int
    pending_frames: int
    bytes: int


# --- the client ---------------------------------------------------------------------------


class RecorderClient(ServiceClient):
    """The recorder service's API, as one token sees it."""

    service = "recorder"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        token: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Use ``session`` (not closed here) to reach ``base_url`` with ``token``."""
        super().__init__(session, base_url, token, timeout=timeout)

    async def health(self) -> dict[str, Any]:
        """Return the service's health (a cheap check of the URL and the token)."""
        return _object(await self._json("GET", "/api/health"))

    async def list_cameras(self) -> list[Camera]:
        """Return every camera with its status."""
        return [_camera(item) for item in _list(await self._json("GET", "/api/cameras"))]

    async def storage(self) -> Storage:
        """Return the disk's use, the oldest recording and the early deletions."""
        data = _object(await self._json("GET", "/api/storage"))
        oldest = data.get("oldest_recording")
        return Storage(
            used_bytes=int(data.get("used_bytes") or 0),
            free_bytes=int(data.get("free_bytes") or 0),
            total_bytes=int(data.get("total_bytes") or 0),
            free_floor_bytes=int(data.get("free_floor_bytes") or 0),
            floor_reached=bool(data.get("floor_reached")),
            oldest_recording=float(oldest) if isinstance(oldest, int | float) else None,
            early_deletions=int(data.get("early_deletions") or 0),
            early_deleted_bytes=int(data.get("early_deleted_bytes") or 0),
        )

    async def start_recording(self, camera: str) -> Camera:
        """Record until stopped, from the pre-roll before now."""
        data = _object(await self._json("POST", _camera_path(camera, "recording/start")))
        return _camera(data.get("camera"))

    async def stop_recording(self, camera: str) -> Camera:
        """Stop the running recording (clips go on to their end)."""
        data = _object(await self._json("POST", _camera_path(camera, "recording/stop")))
        return _camera(data.get("camera"))

    async def record_clip(
        self, camera: str, duration: float, pre_roll: float | None = None
    ) -> dict[str, Any]:
        """Record a clip of ``duration`` seconds from now with up to ``pre_roll`` before;
        return ``{"recording", "start", "end"}``."""
        body: dict[str, Any] = {"duration": duration}
        if pre_roll is not None:
            body["pre_roll"] = pre_roll
        return _object(await self._json("POST", _camera_path(camera, "clips"), json=body))

    async def set_activity(self, camera: str, active: bool, project: str | None) -> Camera:
        """Tell the camera whether its space is active and which project is worked on."""
        if project is not None and not valid_id(project):
            raise RecorderRefusedError(
                f"{project!r} is not a project id", code="refused", status=422
            )
        body = {"active": active, "project": project}
        return _camera(await self._json("PUT", _camera_path(camera, "activity"), json=body))

    async def snapshot(self, camera: str) -> bytes:
        """Return the camera's latest picture (JPEG)."""
        async with await self.open_file(_camera_path(camera, "snapshot")) as response:
            return await response.read()

    async def recordings(
        self, camera: str | None = None, day: str | None = None
    ) -> list[Recording]:
        """Return the recordings of a camera (or every one), of a day (or every one)."""
        params = _params(camera=camera, day=day)
        data = await self._request_json("GET", "/api/recordings", self.timeout, params=params)
        return [_recording(item) for item in _list(data)]

    async def timelapses(
        self, camera: str | None = None, day: str | None = None, project: str | None = None
    ) -> list[Timelapse]:
        """Return the time-lapses by camera, day and project."""
        params = _params(camera=camera, day=day, project=project)
        data = await self._request_json("GET", "/api/timelapses", self.timeout, params=params)
        return [_timelapse(item) for item in _list(data)]

    async def open_file(
        self, path: str, headers: Mapping[str, str] | None = None
    ) -> aiohttp.ClientResponse:
        """Send a GET for a file (``headers`` such as ``Range`` passed on); return the open
        response of a success (the caller releases it) or raise the error answer."""
        try:
            response = await self._session.get(
                self.base_url + path,
                headers={**(headers or {}), **self._headers},
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.timeout,
                                              sock_read=FILE_TIMEOUT),
                allow_redirects=False,
            )  # fmt: skip
        except TimeoutError as err:
            raise self._timed_out("GET", path, FILE_TIMEOUT) from err
        except aiohttp.ClientError as err:
            raise self._unreachable("GET", path, err) from err
        if response.status >= 300:
            raw = await response.read()
            response.release()
            raise self._error(response.status, raw)
        return response

    def live_url(self, camera: str, expires: int) -> str:
        """Return the camera's live stream address, signed to open only that stream until
        ``expires`` (Unix time): what Home Assistant's stream component is given instead
        of the token or the camera's own address. ``auth`` is a query key Home
        Assistant's stream logs redact."""
        camera_id = _checked_id(camera)
        message = f"live\n{camera_id}\n{expires}".encode()
        auth = hmac.new(self._token.encode(), message, hashlib.sha256).hexdigest()
        return f"{self.base_url}/api/cameras/{camera_id}/live?expires={expires}&auth={auth}"

    # --- plumbing -----------------------------------------------------------------------

    async def _json(self, method: str, path: str, *, json: Mapping[str, Any] | None = None) -> Any:
        return await self._request_json(method, path, self.timeout, json=json)

    def _timed_out(self, method: str, path: str, seconds: float) -> RecorderConnectionError:
        return RecorderConnectionError(
            f"the recorder service did not answer {method} {path} within {seconds:g} s"
        )

    def _unreachable(
        self, method: str, path: str, err: aiohttp.ClientError
    ) -> RecorderConnectionError:
        return RecorderConnectionError(
            f"the recorder service at {self.base_url} cannot be reached: {err}"
        )

    def _no_json(self, method: str, path: str, status: int) -> RecorderServiceError:
        return RecorderServiceError(f"{method} {path} answered {status} with no JSON")

    def _error(self, status: int, raw: bytes) -> RecorderError:
        answer = error_answer(status, raw, self.service)
        cls, known = error_class(answer, status, _BY_CODE, _BY_STATUS, RecorderServiceError)
        return cls(self._redact(answer.message), status=status, code=known)


def valid_id(value: str) -> bool:
    """Return whether ``value`` is a camera or project id the service accepts."""
    return ID_RE.fullmatch(value) is not None


def _checked_id(value: str, what: str = "camera") -> str:
    if not valid_id(value):
        raise RecorderRefusedError(f"{value!r} is not a {what} id", code="refused", status=422)
    return quote(value, safe="")


def _camera_path(camera: str, action: str) -> str:
    return f"/api/cameras/{_checked_id(camera)}/{action}"


def segment_path(camera: str, name: str) -> str:
    """Return the path of a recording's segment file (refused: a name that is not one)."""
    if SEGMENT_RE.fullmatch(name) is None:
        raise RecorderRefusedError(f"{name!r} is not a segment's name", code="refused", status=422)
    return _camera_path(camera, f"segments/{name}")


def recording_file_path(camera: str, recording: str) -> str:
    """Return the path of a whole recording as one file (refused: not a recording id)."""
    if RECORDING_RE.fullmatch(recording) is None:
        raise RecorderRefusedError(
            f"{recording!r} is not a recording id", code="refused", status=422
        )
    return _camera_path(camera, f"recordings/{recording}/file")


def timelapse_path(camera: str, day: str, project: str | None) -> str:
    """Return the path of a day's time-lapse of a project (None: no project)."""
    if DAY_RE.fullmatch(day) is None:
        raise RecorderRefusedError(f"{day!r} is not a day", code="refused", status=422)
    part = NO_PROJECT if project is None else _checked_id(project, "project")
    return f"/api/timelapses/{_checked_id(camera)}/{day}/{part}"


def _params(**values: str | None) -> dict[str, str]:
    params = {key: value for key, value in values.items() if value is not None}
    if "camera" in params:
        _checked_id(params["camera"])
    if "day" in params and DAY_RE.fullmatch(params["day"]) is None:
        raise RecorderRefusedError(f"{params['day']!r} is not a day", code="refused", status=422)
    return params


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise RecorderServiceError("the recorder service's answer is not an object")
    return data


def _list(data: Any) -> list[Any]:
    if not isinstance(data, list):
        raise RecorderServiceError("the recorder service's answer is not a list")
    return data


def _float_or_none(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _camera(data: Any) -> Camera:
    item = _object(data)
    try:
        status = CameraStatus(str(item.get("status")))
    except ValueError:
        raise RecorderServiceError(f"unknown camera status {item.get('status')!r}") from None
    gaps = item.get("gaps")
    lost_since = None
    last = gaps[-1] if isinstance(gaps, list) and gaps else None
    if isinstance(last, dict) and last.get("end") is None:
        lost_since = _float_or_none(last.get("start"))
    return Camera(
        id=str(item.get("id", "")),
        name=str(item.get("name") or item.get("id", "")),
        kind=str(item.get("kind", "")),
        source=str(item.get("source", "")),
        status=status,
        has_credentials=bool(item.get("has_credentials")),
        serial=_str_or_none(item.get("serial")),
        recording=bool(item.get("recording")),
        active=bool(item.get("active")),
        project=_str_or_none(item.get("project")),
        last_error=_str_or_none(item.get("last_error")),
        reconnects=int(item.get("reconnects") or 0),
        lost_since=lost_since,
        used_bytes=int(item.get("used_bytes") or 0),
        oldest_recording=_float_or_none(item.get("oldest_recording")),
    )


def _recording(data: Any) -> Recording:
    item = _object(data)
    segments = tuple(
        Segment(
            name=str(segment.get("name", "")),
            start=float(segment.get("start") or 0.0),
            end=float(segment.get("end") or 0.0),
            size=int(segment.get("size") or 0),
        )
        for segment in item.get("segments") or []
        if isinstance(segment, dict)
    )
    return Recording(
        id=str(item.get("id", "")),
        camera=str(item.get("camera", "")),
        kind=str(item.get("kind", "")),
        start=float(item.get("start") or 0.0),
        end=_float_or_none(item.get("end")),
        day=str(item.get("day", "")),
        segments=segments,
    )


def _timelapse(data: Any) -> Timelapse:
    item = _object(data)
    return Timelapse(
        camera=str(item.get("camera", "")),
        day=str(item.get("day", "")),
        project=_str_or_none(item.get("project")),
        chunks=int(item.get("chunks") or 0),
        pending_frames=int(item.get("pending_frames") or 0),
        bytes=int(item.get("bytes") or 0),
    )
