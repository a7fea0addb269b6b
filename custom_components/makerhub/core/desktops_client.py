"""Client of the Makerhub desktops service (the ``makerhub_desktops`` add-on's HTTP API).

Pure Python (aiohttp only, no Home Assistant imports, nothing from the add-on's package:
it is a separate deployable). Every call sends ``Authorization: Bearer <token>`` and has a
timeout; every failure is a :class:`DesktopsError` whose subclass follows the service's
error code (``unknown_project``, ``clone_failed``, ``no_capacity``, ``unauthorized``…) or
says that the service could not be reached, and whose message is the service's own.

The routes are those of the add-on's ``openapi.yaml``: health, a desktop's record, start,
stop, and connect tokens for a role.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
import re
from typing import Any, Final
from urllib.parse import quote

import aiohttp

from .service_client import ServiceClient, ServiceError, error_answer, error_class

DEFAULT_TIMEOUT: Final = 30.0
"""Seconds for a quick call (health, a record, stop, connect)."""
START_TIMEOUT: Final = 300.0
"""Seconds for a start: the first one clones the repository."""
PROJECT_ID_RE: Final = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,22}[a-z0-9])?$")
"""The service's project ids (checked here too, so nothing odd reaches a URL path)."""


class DesktopState(StrEnum):
    """Where a desktop is."""

    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    SUSPENDED = "suspended"
    ERROR = "error"


class Role(StrEnum):
    """What a connection may do: a controller types and points, a viewer only sees."""

    CONTROLLER = "controller"
    VIEWER = "viewer"


# --- errors -------------------------------------------------------------------------------


class DesktopsError(ServiceError):
    """The desktops service refused a request, failed, or could not be reached.

    ``message`` is the service's own message, ``code`` its error code (``unreachable``
    when there was no answer) and ``status`` the HTTP status (None without an answer).
    """


class DesktopsConnectionError(DesktopsError):
    """The service could not be reached, or did not answer in time."""

    default_code = "unreachable"


class DesktopsAuthError(DesktopsError):
    """The service refused the API token (401)."""

    default_code = "unauthorized"


class DesktopsRequestError(DesktopsError):
    """The request was malformed (400)."""

    default_code = "invalid_request"


class DesktopsUnknownProjectError(DesktopsError):
    """The service has no desktop for that project yet (404): start it first."""

    default_code = "unknown_project"


class DesktopsRefusedError(DesktopsError):
    """A hostile project id, clone URL or repository content (422)."""

    default_code = "refused"


class DesktopsCloneError(DesktopsError):
    """The repository could not be cloned (502; git's message, credentials redacted)."""

    default_code = "clone_failed"


class DesktopsCapacityError(DesktopsError):
    """Every slot is held by a desktop someone is connected to (503)."""

    default_code = "no_capacity"


class DesktopsConflictError(DesktopsError):
    """A controller is already connected (409)."""

    default_code = "conflict"


class DesktopsServiceError(DesktopsError):
    """The service failed (``desktop_failed``, 5xx) or answered something not understood."""

    default_code = "internal"


_BY_CODE: Final[dict[str, type[DesktopsError]]] = {
    "invalid_request": DesktopsRequestError,
    "unauthorized": DesktopsAuthError,
    "unknown_project": DesktopsUnknownProjectError,
    "refused": DesktopsRefusedError,
    "clone_failed": DesktopsCloneError,
    "no_capacity": DesktopsCapacityError,
    "conflict": DesktopsConflictError,
    "desktop_failed": DesktopsServiceError,
    "internal": DesktopsServiceError,
}
_BY_STATUS: Final[dict[int, type[DesktopsError]]] = {
    400: DesktopsRequestError,
    401: DesktopsAuthError,
    404: DesktopsUnknownProjectError,
    409: DesktopsConflictError,
    422: DesktopsRefusedError,
    502: DesktopsCloneError,
    503: DesktopsCapacityError,
}


# --- records ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DesktopsHealth:
    """``GET /api/health``: liveness, desktops by state and refusals by error code."""

    status: str
    desktops: Mapping[str, int]
    refused: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Desktop:
    """A project's desktop as the service shows it."""

    project: str
    state: DesktopState
    viewers: int = 0
    controllers: int = 0
    repository: str = ""
    display: int | None = None
    last_active: float = 0.0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectToken:
    """A single-use, short-lived connect token for one desktop and role."""

    project: str
    role: Role
    token: str
    expires: float
    url: str
    """The noVNC page that uses the token, absolute (the service's base URL + its path)."""
    path: str
    """The same page relative to the service's root (``desktop?token=…``), for ingress."""

    @property
    def kiosk_url(self) -> str:
        """Return :attr:`url` asking for the kiosk page (noVNC without its control bar and
        status banners), for a display."""
        return f"{self.url}{'&' if '?' in self.url else '?'}kiosk=1"


# --- the client ---------------------------------------------------------------------------


class DesktopsClient(ServiceClient):
    """The desktops service's API, as one token sees it."""

    service = "desktops"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        token: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        """Use ``session`` (not closed here) to reach ``base_url`` with ``token``."""
        super().__init__(session, base_url, token, timeout=timeout)
        self.start_timeout = start_timeout

    async def health(self) -> DesktopsHealth:
        """Return the service's health (a cheap check of the URL and the token)."""
        data = _object(await self._json("GET", "/api/health"))
        return DesktopsHealth(
            status=str(data.get("status", "")),
            desktops=_counts(data.get("desktops")),
            refused=_counts(data.get("refused")),
        )

    async def list_desktops(self) -> list[Desktop]:
        """Return every desktop the service knows."""
        data = await self._json("GET", "/api/desktops")
        if not isinstance(data, list):
            raise DesktopsServiceError("the desktop list is not a list")
        return [_desktop(item) for item in data]

    async def status(self, project: str) -> Desktop:
        """Return a project's desktop (DesktopsUnknownProjectError before its first start)."""
        return _desktop(await self._json("GET", _path(project)))

    async def start(
        self,
        project: str,
        *,
        repository: str | None = None,
        credential: str | None = None,
        username: str | None = None,
        scratch_ttl: float | None = None,
    ) -> Desktop:
        """Start, resume or keep running a project's desktop.

        ``repository`` (its URL) is cloned on the first start (without one the
        workspace is an empty ``git init``, replaced by the clone on a later start
        with one while it is still empty);
        ``credential`` is a short-lived password for it (used once, never kept by the
        service), ``username`` its user name; ``scratch_ttl`` seconds until the scratch
        folder is deleted.
        """
        body: dict[str, Any] = {}
        if repository is not None:
            body["repository"] = {"url": repository}
            if credential:
                body["repository"]["token"] = credential
            if username:
                body["repository"]["username"] = username
        if scratch_ttl is not None:
            body["scratch_ttl"] = scratch_ttl
        data = await self._json("POST", _path(project, "start"), json=body, long=True)
        return _desktop(data)

    async def stop(self, project: str) -> Desktop:
        """Stop a project's desktop (its home and workspace are kept)."""
        return _desktop(await self._json("POST", _path(project, "stop")))

    async def connect(self, project: str, role: Role, ttl: int | None = None) -> ConnectToken:
        """Issue a connect token for ``role`` (``ttl`` seconds, 1 to 600)."""
        body: dict[str, Any] = {"role": str(role)}
        if ttl is not None:
            body["ttl"] = ttl
        data = _object(await self._json("POST", _path(project, "connect"), json=body))
        path = str(data.get("url", ""))
        token = data.get("token")
        if not isinstance(token, str) or not path:
            raise DesktopsServiceError("the connect answer has no token or URL")
        return ConnectToken(
            project=str(data.get("project", project)),
            role=Role(str(data.get("role", role))),
            token=token,
            expires=float(data.get("expires", 0.0)),
            url=f"{self.base_url}/{path.lstrip('/')}",
            path=path.lstrip("/"),
        )

    # --- plumbing -----------------------------------------------------------------------

    async def _json(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        long: bool = False,
    ) -> Any:
        """Send one request; return its JSON answer (None for 204) or raise."""
        seconds = self.start_timeout if long else self.timeout
        return await self._request_json(method, path, seconds, json=json)

    def _timed_out(self, method: str, path: str, seconds: float) -> DesktopsConnectionError:
        return DesktopsConnectionError(
            f"the desktops service did not answer {method} {path} within {seconds:g} s"
        )

    def _unreachable(
        self, method: str, path: str, err: aiohttp.ClientError
    ) -> DesktopsConnectionError:
        return DesktopsConnectionError(
            f"the desktops service at {self.base_url} cannot be reached: {err}"
        )

    def _no_json(self, method: str, path: str, status: int) -> DesktopsServiceError:
        return DesktopsServiceError(f"{method} {path} answered {status} with no JSON")

    def _error(self, status: int, raw: bytes) -> DesktopsError:
        """Return the error an error answer stands for."""
        answer = error_answer(status, raw, self.service)
        cls, known = error_class(answer, status, _BY_CODE, _BY_STATUS, DesktopsServiceError)
        return cls(self._redact(answer.message), status=status, code=known)


def valid_project_id(project: str) -> bool:
    """Return whether ``project`` is an id the service accepts."""
    return PROJECT_ID_RE.fullmatch(project) is not None


def _path(project: str, action: str | None = None) -> str:
    if not valid_project_id(project):
        raise DesktopsRefusedError(f"{project!r} is not a desktop's project id", code="refused")
    base = f"/api/desktops/{quote(project, safe='')}"
    return base if action is None else f"{base}/{action}"


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise DesktopsServiceError("the desktops service's answer is not an object")
    return data


def _counts(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    return {str(key): int(count) for key, count in value.items() if isinstance(count, int)}


def _desktop(data: Any) -> Desktop:
    item = _object(data)
    try:
        state = DesktopState(str(item.get("state")))
    except ValueError:
        raise DesktopsServiceError(f"unknown desktop state {item.get('state')!r}") from None
    display = item.get("display")
    error = item.get("error")
    return Desktop(
        project=str(item.get("project", "")),
        state=state,
        viewers=int(item.get("viewers") or 0),
        controllers=int(item.get("controllers") or 0),
        repository=str(item.get("repository") or ""),
        display=display if isinstance(display, int) else None,
        last_active=float(item.get("last_active") or 0.0),
        error=error if isinstance(error, str) else None,
    )
