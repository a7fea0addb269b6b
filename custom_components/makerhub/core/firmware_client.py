"""Client of the Makerhub firmware service (the ``makerhub_firmware`` add-on's HTTP API).

Pure Python (aiohttp only, no Home Assistant imports, and nothing from the add-on's own
package: it is a separate deployable, so the few constants shared are repeated here).
Every call sends ``Authorization: Bearer <token>`` and has a timeout; every failure is a
:class:`FirmwareError` whose subclass follows the service's error code (``refused``,
``too_large``, ``invalid_schema``, ``not_found``, ``unauthorized``…) or says that the
service could not be reached, and whose message is the service's own.

The routes are those of the add-on's ``openapi.yaml``: repositories (register, sync, refs,
validate) and unit archives (build, sign a download URL, stream the bytes).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
import hashlib
import logging
import re
from types import TracebackType
from typing import Any, Final, Self
from urllib.parse import urlsplit

import aiohttp

from .errors import SchemaError
from .schema import UnitSchema, parse_makerhub_json
from .service_client import ServiceClient, ServiceError, error_answer, error_class

_LOGGER = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = 30.0
"""Seconds for a quick call (reading records, refs, signing)."""
LONG_TIMEOUT: Final = 300.0
"""Seconds for calls that run git or build: register, update, sync, validate, build."""
CHUNK_SIZE: Final = 64 * 1024
REPO_ID_RE: Final = re.compile(r"[0-9a-f]{12}")
ARCHIVE_ID_RE: Final = re.compile(r"[0-9a-f]{64}")
FORMATS: Final = ("tar.gz", "zip")
MAX_REPO_NAME: Final = 64
"""The service's limit for a repository's name."""
SHA256_HEADER: Final = "X-Archive-Sha256"


# --- errors -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Issue:
    """One located problem the service reported: file, JSON path and reason."""

    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        """Render as ``file: path: reason`` (empty parts left out)."""
        return ": ".join(part for part in (self.file, self.path, self.reason) if part)


class FirmwareError(ServiceError):
    """The firmware service refused a request, failed, or could not be reached.

    ``message`` is the service's own message, ``code`` its error code (``unreachable``
    when there was no answer), ``status`` the HTTP status (None without an answer) and
    ``details`` the located issues of a validation error.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        details: tuple[Issue, ...] = (),
    ) -> None:
        """Keep the message, status, code and details."""
        super().__init__(message, status=status, code=code)
        self.details = details


class FirmwareConnectionError(FirmwareError):
    """The service could not be reached, or did not answer in time."""

    default_code = "unreachable"


class FirmwareAuthError(FirmwareError):
    """The service refused the API token (401)."""

    default_code = "unauthorized"


class FirmwareRequestError(FirmwareError):
    """The request was malformed: a missing field, a wrong type (400)."""

    default_code = "invalid_request"


class FirmwareNotFoundError(FirmwareError):
    """No such repository, ref, archive or release asset (404)."""

    default_code = "not_found"


class FirmwareConflictError(FirmwareError):
    """The request clashes with the service's state, e.g. a repository not synced (409)."""

    default_code = "conflict"


class FirmwareRefusedError(FirmwareError):
    """Unacceptable input: a URL, a ref or repository content (422)."""

    default_code = "refused"


class FirmwareTooLargeError(FirmwareRefusedError):
    """Over a size limit: the repository, a file, a download, a request (413)."""

    default_code = "too_large"


class FirmwareInvalidSchemaError(FirmwareRefusedError):
    """The repository's ``makerhub.json`` (or Pepeunit files) is missing or invalid."""

    default_code = "invalid_schema"


class FirmwareUpstreamError(FirmwareError):
    """A git remote or a releases API failed behind the service (502)."""

    default_code = "upstream_failed"


class FirmwareServiceError(FirmwareError):
    """The service failed (5xx) or answered something this client does not understand."""

    default_code = "internal"


_BY_CODE: Final[dict[str, type[FirmwareError]]] = {
    "bad_request": FirmwareRequestError,
    "invalid_request": FirmwareRequestError,
    "unauthorized": FirmwareAuthError,
    "not_found": FirmwareNotFoundError,
    "conflict": FirmwareConflictError,
    "refused": FirmwareRefusedError,
    "too_large": FirmwareTooLargeError,
    "invalid_schema": FirmwareInvalidSchemaError,
    "upstream_failed": FirmwareUpstreamError,
    "internal": FirmwareServiceError,
}
_BY_STATUS: Final[dict[int, type[FirmwareError]]] = {
    400: FirmwareRequestError,
    401: FirmwareAuthError,
    403: FirmwareAuthError,
    404: FirmwareNotFoundError,
    409: FirmwareConflictError,
    413: FirmwareTooLargeError,
    422: FirmwareRefusedError,
    502: FirmwareUpstreamError,
}


# --- records ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceHealth:
    """``GET /api/health``: liveness, repository count and refusals by error code."""

    status: str
    repositories: int
    refused: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class FirmwareRepo:
    """A registered repository as the service shows it (never its secrets)."""

    id: str
    name: str
    url: str
    sync_interval: int = 86400
    size_limit: int = 10 * 1024 * 1024
    auth: str = "none"
    username: str | None = None
    has_credentials: bool = False
    webhook: bool = False
    api_url: str | None = None
    created_at: float = 0.0
    last_sync: float | None = None
    last_attempt: float | None = None
    last_error: str | None = None
    default_branch: str | None = None
    size: int | None = None
    syncs: int = 0

    @property
    def synced(self) -> bool:
        """Return whether a sync has ever succeeded."""
        return self.last_sync is not None


@dataclass(frozen=True, slots=True)
class GitRef:
    """A branch or tag and the commit it points at."""

    name: str
    commit: str


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """A recent commit with its message (for release summaries)."""

    commit: str
    author: str
    time: int
    subject: str
    message: str

    @property
    def when(self) -> datetime:
        """Return the commit time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.time, UTC)

    @property
    def body(self) -> str:
        """Return the message without its subject line."""
        return self.message.removeprefix(self.subject).strip()


@dataclass(frozen=True, slots=True)
class RepoRefs:
    """``GET /api/repos/{id}/refs``: branches, tags and the newest commits (all refs)."""

    default_branch: str | None
    branches: tuple[GitRef, ...]
    tags: tuple[GitRef, ...]
    commits: tuple[CommitInfo, ...]
    last_sync: float | None = None
    last_error: str | None = None

    def branch(self, name: str) -> GitRef | None:
        """Return a branch by name."""
        return next((ref for ref in self.branches if ref.name == name), None)

    def tag(self, name: str) -> GitRef | None:
        """Return a tag by name."""
        return next((ref for ref in self.tags if ref.name == name), None)

    @property
    def head(self) -> GitRef | None:
        """Return the default branch, if known."""
        return None if self.default_branch is None else self.branch(self.default_branch)

    def resolve(self, ref: str) -> str | None:
        """Return the commit of a branch, tag, or (abbreviated) recent commit id."""
        if (named := self.branch(ref) or self.tag(ref)) is not None:
            return named.commit
        info = self.commit_info(ref)
        return None if info is None else info.commit

    def commit_info(self, commit: str) -> CommitInfo | None:
        """Return a recent commit by its id (at least 7 characters of it), or None."""
        if len(commit) < 7:
            return None
        return next((c for c in self.commits if c.commit.startswith(commit.lower())), None)

    def tags_at(self, commit: str) -> list[str]:
        """Return the names of the tags pointing at ``commit``."""
        return [ref.name for ref in self.tags if ref.commit == commit]


@dataclass(frozen=True, slots=True)
class Validation:
    """``GET /api/repos/{id}/validate``: a commit's schema, or why it is not valid.

    ``schema`` is the unit schema the integration builds entities from, parsed from the
    service's ``makerhub.json`` form (Pepeunit repositories arrive converted to it);
    ``schema_json`` is that form as received.
    """

    commit: str
    valid: bool
    source: str | None
    schema: UnitSchema | None
    schema_json: Mapping[str, Any] | None
    issues: tuple[Issue, ...] = ()

    def require_schema(self) -> UnitSchema:
        """Return the schema; raise :class:`FirmwareInvalidSchemaError` if not valid."""
        if not self.valid or self.schema is None:
            reasons = "; ".join(str(issue) for issue in self.issues) or "no schema"
            raise FirmwareInvalidSchemaError(
                f"commit {self.commit[:12]} is not a valid unit repository: {reasons}",
                details=self.issues,
            )
        return self.schema


@dataclass(frozen=True, slots=True)
class SignedUrl:
    """A signed download link; ``url`` is set only if the service knows its external URL."""

    path: str
    url: str | None
    expires: int
    sha256: str | None = None
    size: int | None = None

    def absolute(self, base_url: str) -> str:
        """Return the full URL: the service's own, else ``base_url`` + the signed path."""
        return self.url or base_url.rstrip("/") + self.path

    @property
    def expires_at(self) -> datetime:
        """Return the expiry as an aware UTC datetime."""
        return datetime.fromtimestamp(self.expires, UTC)


@dataclass(frozen=True, slots=True)
class FirmwareArchive:
    """A unit's archive; built ones carry a signed download link (``signed``)."""

    id: str
    repo: str
    commit: str
    format: str
    size: int
    sha256: str
    created_at: float = 0.0
    asset: str | None = None
    signed: SignedUrl | None = field(default=None, compare=False)

    @property
    def path(self) -> str | None:
        """Return the signed path and query, if the record came with one."""
        return None if self.signed is None else self.signed.path

    @property
    def url(self) -> str | None:
        """Return the service's full signed URL, if it has an external URL."""
        return None if self.signed is None else self.signed.url

    @property
    def expires(self) -> int | None:
        """Return when the signed link expires (unix seconds)."""
        return None if self.signed is None else self.signed.expires


# --- the client ---------------------------------------------------------------------------


class FirmwareClient(ServiceClient):
    """The firmware service's API, as one token sees it."""

    service = "firmware"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        token: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        long_timeout: float = LONG_TIMEOUT,
    ) -> None:
        """Use ``session`` (not closed here) to reach ``base_url`` with ``token``."""
        super().__init__(session, base_url, token, timeout=timeout)
        self.long_timeout = long_timeout

    # --- service and repositories -----------------------------------------------------

    async def health(self) -> ServiceHealth:
        """Return the service's health (a cheap check of the URL and the token)."""
        data = await self._json("GET", "/api/health")
        refused = _or(_opt(data, "refused", dict), {})
        return ServiceHealth(
            status=_get(data, "status", str),
            repositories=_get(data, "repositories", int),
            refused={str(code): int(count) for code, count in refused.items()},
        )

    async def list_repos(self) -> list[FirmwareRepo]:
        """Return every registered repository."""
        data = await self._json("GET", "/api/repos")
        if not isinstance(data, list):
            raise _unexpected("the repository list is not a list")
        return [_repo(item) for item in data]

    async def create_repo(
        self,
        url: str,
        name: str | None = None,
        *,
        token: str | None = None,
        username: str | None = None,
        ssh_key: str | None = None,
        webhook_secret: str | None = None,
        sync_interval: int | None = None,
        size_limit: int | None = None,
        api_url: str | None = None,
    ) -> FirmwareRepo:
        """Register a repository; the service clones it first and refuses it if that fails.

        ``name`` defaults to the URL's last path part. ``token`` (HTTPS, with an optional
        ``username``) or ``ssh_key`` for a private repository; ``webhook_secret`` (16+
        characters) to accept push webhooks; ``sync_interval`` seconds (0: on demand);
        ``size_limit`` bytes; ``api_url`` for the releases API of compiled firmware.
        """
        body = _fields(
            name=name if name is not None else repo_name_from_url(url),
            url=url,
            token=token,
            username=username,
            ssh_key=ssh_key,
            webhook_secret=webhook_secret,
            sync_interval=sync_interval,
            size_limit=size_limit,
            api_url=api_url,
        )
        data = await self._json("POST", "/api/repos", json=body, long=True)
        return _repo(data)

    async def update_repo(
        self,
        repo_id: str,
        *,
        name: str | None = None,
        url: str | None = None,
        token: str | None = None,
        username: str | None = None,
        ssh_key: str | None = None,
        webhook_secret: str | None = None,
        sync_interval: int | None = None,
        size_limit: int | None = None,
        api_url: str | None = None,
    ) -> FirmwareRepo:
        """Change a repository's settings (None: unchanged; ``""`` clears a secret)."""
        body = _fields(
            name=name,
            url=url,
            token=token,
            username=username,
            ssh_key=ssh_key,
            webhook_secret=webhook_secret,
            sync_interval=sync_interval,
            size_limit=size_limit,
            api_url=api_url,
        )
        data = await self._json("PATCH", _repo_path(repo_id), json=body, long=True)
        return _repo(data)

    async def get_repo(self, repo_id: str) -> FirmwareRepo:
        """Return one repository."""
        return _repo(await self._json("GET", _repo_path(repo_id)))

    async def delete_repo(self, repo_id: str) -> None:
        """Forget a repository, with its clone and cached archives."""
        await self._json("DELETE", _repo_path(repo_id))

    async def sync(self, repo_id: str) -> FirmwareRepo:
        """Fetch every branch and tag now; a failure shows as the record's ``last_error``."""
        return _repo(await self._json("POST", _repo_path(repo_id, "sync"), long=True))

    async def refs(self, repo_id: str) -> RepoRefs:
        """Return branches, tags and the newest commits with their messages."""
        data = await self._json("GET", _repo_path(repo_id, "refs"))
        return RepoRefs(
            default_branch=_opt(data, "default_branch", str),
            branches=tuple(_ref(item) for item in _or(_opt(data, "branches", list), [])),
            tags=tuple(_ref(item) for item in _or(_opt(data, "tags", list), [])),
            commits=tuple(_commit(item) for item in _or(_opt(data, "commits", list), [])),
            last_sync=_number(data, "last_sync"),
            last_error=_opt(data, "last_error", str),
        )

    async def validate(self, repo_id: str, ref: str | None = None) -> Validation:
        """Validate the repository at ``ref`` (default: its default branch).

        An invalid commit is not an error: the answer says ``valid=False`` with every
        issue. The schema is parsed here too; one this integration cannot read (a newer
        service) makes the answer invalid, with the reasons as issues.
        """
        params = {} if ref is None else {"ref": ref}
        data = await self._json("GET", _repo_path(repo_id, "validate"), params=params, long=True)
        issues = [_issue(item) for item in _or(_opt(data, "issues", list), [])]
        raw_schema = _opt(data, "schema", dict)
        valid = _get(data, "valid", bool)
        schema: UnitSchema | None = None
        if raw_schema is not None:
            try:
                schema = parse_makerhub_json(raw_schema)
            except SchemaError as err:
                valid = False
                issues += [
                    Issue("makerhub.json", item.path, f"not understood here: {item.reason}")
                    for item in err.issues
                ]
        return Validation(
            commit=_or(_opt(data, "commit", str), ""),
            valid=valid and schema is not None,
            source=_opt(data, "source", str),
            schema=schema,
            schema_json=raw_schema,
            issues=tuple(issues),
        )

    # --- archives ---------------------------------------------------------------------

    async def build_archive(
        self,
        repo_id: str,
        ref: str,
        env: Mapping[str, Any],
        schema: Mapping[str, Any],
        *,
        fmt: str = "tar.gz",
        expires_in: int | None = None,
    ) -> FirmwareArchive:
        """Build (or reuse) a unit's archive of ``ref`` with its ``env.json``/``schema.json``.

        The answer carries the archive's ``sha256`` and ``size`` and a signed download
        link valid for ``expires_in`` seconds (the service's default, 10 minutes, if None).
        """
        body: dict[str, Any] = {
            "ref": ref,
            "env": dict(env),
            "schema": dict(schema),
            "format": fmt,
        }
        if expires_in is not None:
            body["expires_in"] = expires_in
        data = await self._json("POST", _repo_path(repo_id, "archives"), json=body, long=True)
        return _archive(data, _signed(data))

    async def get_archive(self, archive_id: str) -> FirmwareArchive:
        """Return an archive's record (without a signed link)."""
        return _archive(await self._json("GET", _archive_path(archive_id)))

    async def sign(self, archive_id: str, expires_in: int | None = None) -> SignedUrl:
        """Return a fresh signed download link for an archive."""
        body = {} if expires_in is None else {"expires_in": expires_in}
        return _signed(await self._json("POST", _archive_path(archive_id, "url"), json=body))

    def download_url(self, signed: SignedUrl | FirmwareArchive) -> str:
        """Return the full download URL, completing a bare signed path with this client's
        base URL (which must then be one the unit can reach)."""
        link = signed.signed if isinstance(signed, FirmwareArchive) else signed
        if link is None:
            raise ValueError("this archive record has no signed link: use sign()")
        return link.absolute(self.base_url)

    def archive_content(self, archive_id: str, chunk_size: int = CHUNK_SIZE) -> ArchiveStream:
        """Return an archive's bytes as a stream, to proxy the download.

        Either iterate it directly (``async for chunk in client.archive_content(id)``) or
        open it first to read ``size``, ``sha256`` and ``filename`` before the bytes::

            async with client.archive_content(archive_id) as stream:
                ...  # headers from stream.size, stream.sha256, stream.content_type
                async for chunk in stream:
                    ...

        The bytes are checked against the sha256 and size the service announced; a
        mismatch raises :class:`FirmwareServiceError` at the end.
        """
        path = _archive_path(archive_id, "content")
        return ArchiveStream(lambda: self._open_stream(path), self.timeout, chunk_size)

    # --- plumbing ---------------------------------------------------------------------

    @property
    def _headers(self) -> dict[str, str]:
        return {**super()._headers, "Accept": "application/json"}

    async def _json(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        long: bool = False,
    ) -> Any:
        """Send one request; return its JSON answer (None for 204) or raise."""
        seconds = self.long_timeout if long else self.timeout
        return await self._request_json(method, path, seconds, json=json, params=params)

    async def _open_stream(self, path: str) -> aiohttp.ClientResponse:
        """Send a download request; return the open 200 response or raise."""
        seconds = self.timeout
        try:
            response = await self._session.get(
                self.base_url + path,
                headers={**self._headers, "Accept": "*/*"},
                timeout=aiohttp.ClientTimeout(total=None, connect=seconds, sock_read=seconds),
                allow_redirects=False,
            )
        except TimeoutError as err:
            raise self._timed_out("GET", path, seconds) from err
        except aiohttp.ClientError as err:
            raise self._unreachable("GET", path, err) from err
        if response.status == 200:
            return response
        try:
            raw = await response.read()
        except (TimeoutError, aiohttp.ClientError):
            raw = b""
        finally:
            response.release()
        raise self._error(response.status, raw)

    def _timed_out(self, method: str, path: str, seconds: float) -> FirmwareConnectionError:
        _LOGGER.debug("firmware service %s %s: timed out", method, path)
        return FirmwareConnectionError(
            f"the firmware service at {self.base_url} did not answer within {seconds:g} s"
        )

    def _unreachable(
        self, method: str, path: str, err: aiohttp.ClientError
    ) -> FirmwareConnectionError:
        cause = self._redact(f"{type(err).__name__}: {err}")
        _LOGGER.debug("firmware service %s %s: %s", method, path, cause)
        return FirmwareConnectionError(
            f"cannot reach the firmware service at {self.base_url} ({cause})"
        )

    def _no_json(self, method: str, path: str, status: int) -> FirmwareServiceError:
        return _unexpected(f"{method} {path} answered {status} with no JSON")

    def _error(self, status: int, raw: bytes) -> FirmwareError:
        """Return the error an error answer stands for."""
        answer = error_answer(status, raw, self.service)
        details = answer.body.get("details") if answer.body is not None else None
        issues = tuple(_issue(item) for item in (details if isinstance(details, list) else []))
        cls, known = error_class(answer, status, _BY_CODE, _BY_STATUS, FirmwareServiceError)
        return cls(self._redact(answer.message), status=status, code=known, details=issues)


class ArchiveStream:
    """An archive download in progress: metadata once open, then the bytes in chunks."""

    def __init__(
        self,
        opener: Callable[[], Awaitable[aiohttp.ClientResponse]],
        timeout: float,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        """Prepare the request; nothing is sent before :meth:`open` or iteration."""
        self._opener = opener
        self._timeout = timeout
        self._chunk_size = chunk_size
        self._response: aiohttp.ClientResponse | None = None
        self.size: int | None = None
        self.sha256: str | None = None
        self.content_type: str = "application/octet-stream"
        self.filename: str | None = None

    async def open(self) -> Self:
        """Send the request and read the headers; raise :class:`FirmwareError` if refused."""
        if self._response is not None:
            return self
        response = await self._opener()
        self._response = response
        self.size = response.content_length
        self.sha256 = response.headers.get(SHA256_HEADER)
        self.content_type = response.content_type
        disposition = response.content_disposition
        self.filename = None if disposition is None else disposition.filename
        return self

    async def close(self) -> None:
        """Release the connection (closing it if the body was not read to the end)."""
        if self._response is not None:
            self._response.release()
            self._response = None

    async def __aenter__(self) -> Self:
        """Open the download."""
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the download."""
        await self.close()

    def __aiter__(self) -> AsyncIterator[bytes]:
        """Return the chunks (opening and closing the download if not already open)."""
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        opened_here = self._response is None
        await self.open()
        assert self._response is not None
        digest = hashlib.sha256()
        received = 0
        try:
            try:
                async for chunk in self._response.content.iter_chunked(self._chunk_size):
                    digest.update(chunk)
                    received += len(chunk)
                    yield chunk
            except TimeoutError as err:
                raise FirmwareConnectionError(
                    f"the archive download stalled for {self._timeout:g} s"
                ) from err
            except aiohttp.ClientError as err:
                raise FirmwareConnectionError(f"the archive download broke off ({err})") from err
            if self.size is not None and received != self.size:
                raise FirmwareServiceError(f"archive: got {received} bytes of {self.size}")
            if self.sha256 is not None and digest.hexdigest() != self.sha256:
                raise FirmwareServiceError("archive: the bytes do not match their sha256")
        finally:
            if opened_here:
                await self.close()


# --- helpers ------------------------------------------------------------------------------


def repo_name_from_url(url: str) -> str:
    """Return a repository's display name from its clone URL (``bench-thermo``)."""
    path = urlsplit(url).path if "://" in url else url.rpartition(":")[2]
    last = path.rstrip("/").rpartition("/")[2].removesuffix(".git")
    return last[:MAX_REPO_NAME] or "firmware"


def _repo_path(repo_id: str, action: str | None = None) -> str:
    if not isinstance(repo_id, str) or REPO_ID_RE.fullmatch(repo_id) is None:
        raise FirmwareNotFoundError(f"no repository {repo_id!r}: ids are 12 hex digits")
    return f"/api/repos/{repo_id}" + (f"/{action}" if action else "")


def _archive_path(archive_id: str, action: str | None = None) -> str:
    if not isinstance(archive_id, str) or ARCHIVE_ID_RE.fullmatch(archive_id) is None:
        raise FirmwareNotFoundError(f"no archive {archive_id!r}: ids are 64 hex digits")
    return f"/api/archives/{archive_id}" + (f"/{action}" if action else "")


def _fields(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _unexpected(what: str) -> FirmwareServiceError:
    return FirmwareServiceError(f"unexpected answer from the firmware service: {what}")


def _get[T](data: Any, key: str, kind: type[T]) -> T:
    """Return ``data[key]``; raise :class:`FirmwareServiceError` unless it is a ``kind``."""
    if (value := _opt(data, key, kind)) is None:
        raise _unexpected(f"{key!r} is missing or not a {kind.__name__}")
    return value


def _opt[T](data: Any, key: str, kind: type[T]) -> T | None:
    """Return ``data[key]`` if it is a ``kind``, None if absent or null; else raise."""
    if not isinstance(data, dict):
        raise _unexpected("not a JSON object")
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _unexpected(f"{key!r} is not a {kind.__name__}")
    return value


def _or[T](value: T | None, default: T) -> T:
    return default if value is None else value


def _number(data: Any, key: str) -> float | None:
    value = data.get(key) if isinstance(data, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _optional_int(data: Any, key: str) -> int | None:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _repo(data: Any) -> FirmwareRepo:
    return FirmwareRepo(
        id=_get(data, "id", str),
        name=_get(data, "name", str),
        url=_get(data, "url", str),
        sync_interval=_or(_opt(data, "sync_interval", int), 86400),
        size_limit=_or(_opt(data, "size_limit", int), 10 * 1024 * 1024),
        auth=_or(_opt(data, "auth", str), "none"),
        username=_opt(data, "username", str),
        has_credentials=_or(_opt(data, "has_credentials", bool), False),
        webhook=_or(_opt(data, "webhook", bool), False),
        api_url=_opt(data, "api_url", str),
        created_at=_number(data, "created_at") or 0.0,
        last_sync=_number(data, "last_sync"),
        last_attempt=_number(data, "last_attempt"),
        last_error=_opt(data, "last_error", str),
        default_branch=_opt(data, "default_branch", str),
        size=_optional_int(data, "size"),
        syncs=_or(_opt(data, "syncs", int), 0),
    )


def _ref(data: Any) -> GitRef:
    return GitRef(name=_get(data, "name", str), commit=_get(data, "commit", str))


def _commit(data: Any) -> CommitInfo:
    subject = _or(_opt(data, "subject", str), "")
    return CommitInfo(
        commit=_get(data, "commit", str),
        author=_or(_opt(data, "author", str), ""),
        time=_or(_opt(data, "time", int), 0),
        subject=subject,
        message=_or(_opt(data, "message", str), subject),
    )


def _issue(data: Any) -> Issue:
    if not isinstance(data, dict):
        return Issue("", "", str(data))
    return Issue(
        file=str(data.get("file") or ""),
        path=str(data.get("path") or ""),
        reason=str(data.get("reason") or ""),
    )


def _signed(data: Any) -> SignedUrl:
    url = _opt(data, "url", str)
    return SignedUrl(
        path=_get(data, "path", str),
        url=url if url and urlsplit(url).scheme in ("http", "https") else None,
        expires=_get(data, "expires", int),
        sha256=_opt(data, "sha256", str),
        size=_optional_int(data, "size"),
    )


def _archive(data: Any, signed: SignedUrl | None = None) -> FirmwareArchive:
    return FirmwareArchive(
        id=_get(data, "id", str),
        repo=_get(data, "repo", str),
        commit=_get(data, "commit", str),
        format=_get(data, "format", str),
        size=_get(data, "size", int),
        sha256=_get(data, "sha256", str),
        created_at=_number(data, "created_at") or 0.0,
        asset=_opt(data, "asset", str),
        signed=signed,
    )
