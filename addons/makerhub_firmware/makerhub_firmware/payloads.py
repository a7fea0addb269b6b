"""Checking API request bodies: exact fields, types and ranges, with precise messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from .errors import InvalidRequestError, RefusedError

DEFAULT_SYNC_INTERVAL: Final = 86400
MAX_SYNC_INTERVAL: Final = 30 * 86400
MIN_SYNC_INTERVAL: Final = 60
DEFAULT_SIZE_LIMIT: Final = 10 * 1024 * 1024
MAX_SIZE_LIMIT: Final = 1024 * 1024 * 1024
MIN_SIZE_LIMIT: Final = 1024
MAX_NAME: Final = 64
MAX_TOKEN: Final = 4096
MIN_WEBHOOK_SECRET: Final = 16
MAX_WEBHOOK_SECRET: Final = 256

REPO_FIELDS: Final = frozenset(
    {
        "name",
        "url",
        "sync_interval",
        "size_limit",
        "token",
        "username",
        "ssh_key",
        "webhook_secret",
        "api_url",
    }
)
SECRET_FIELDS: Final = frozenset({"token", "ssh_key", "webhook_secret"})


@dataclass(slots=True)
class RepoChanges:
    """The fields a create or update request sets (None: not given; "" clears a secret)."""

    name: str | None = None
    url: Any = None
    sync_interval: int | None = None
    size_limit: int | None = None
    token: str | None = None
    username: str | None = None
    ssh_key: str | None = None
    webhook_secret: str | None = None
    api_url: str | None = None

    def __repr__(self) -> str:
        """Never show the secrets."""
        return f"RepoChanges(name={self.name!r}, url={self.url!r})"


def _int(data: Mapping[str, Any], key: str, low: int, high: int) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidRequestError(f"{key}: must be an integer from {low} to {high}")
    return int(value)


def _text(data: Mapping[str, Any], key: str, max_len: int, *, empty_ok: bool = False) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_len or (not value and not empty_ok):
        kind = "a string" if empty_ok else "a non-empty string"
        raise InvalidRequestError(f"{key}: must be {kind} of at most {max_len} characters")
    if any(ord(char) < 0x20 for char in value) and key != "ssh_key":
        raise InvalidRequestError(f"{key}: contains control characters")
    return value


def parse_repo_changes(data: Any, *, creating: bool) -> RepoChanges:
    """Return the checked fields of a ``POST``/``PATCH /api/repos`` body."""
    if not isinstance(data, Mapping):
        raise InvalidRequestError("body: must be a JSON object")
    if unknown := sorted(set(data) - REPO_FIELDS):
        raise InvalidRequestError(f"unknown fields: {', '.join(map(str, unknown))}")
    changes = RepoChanges(
        name=_text(data, "name", MAX_NAME),
        url=data.get("url"),
        sync_interval=_int(data, "sync_interval", 0, MAX_SYNC_INTERVAL),
        size_limit=_int(data, "size_limit", MIN_SIZE_LIMIT, MAX_SIZE_LIMIT),
        token=_text(data, "token", MAX_TOKEN, empty_ok=True),
        username=_text(data, "username", 64, empty_ok=True),
        ssh_key=_text(data, "ssh_key", 16 * 1024, empty_ok=True),
        webhook_secret=_text(data, "webhook_secret", MAX_WEBHOOK_SECRET, empty_ok=True),
        api_url=_text(data, "api_url", 512, empty_ok=True),
    )
    if changes.sync_interval is not None and 0 < changes.sync_interval < MIN_SYNC_INTERVAL:
        raise InvalidRequestError(
            f"sync_interval: 0 (manual only) or at least {MIN_SYNC_INTERVAL} seconds"
        )
    if changes.token and changes.ssh_key:
        raise InvalidRequestError("give either token or ssh_key, not both")
    if changes.webhook_secret and len(changes.webhook_secret) < MIN_WEBHOOK_SECRET:
        raise InvalidRequestError(f"webhook_secret: at least {MIN_WEBHOOK_SECRET} characters")
    if creating:
        if changes.name is None:
            raise InvalidRequestError("name: required")
        if changes.url is None:
            raise InvalidRequestError("url: required")
    return changes


def check_api_url(url: str, allowed_schemes: frozenset[str]) -> str:
    """Return a releases API root URL, or refuse it."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or parts.scheme not in allowed_schemes:
        raise RefusedError("api_url: must be an https:// URL")
    if not parts.hostname or parts.username or parts.password or parts.query or parts.fragment:
        raise RefusedError("api_url: a plain URL like https://api.github.com, without credentials")
    return url.rstrip("/")


@dataclass(frozen=True, slots=True)
class ArchiveRequest:
    """A checked ``POST /api/repos/{id}/archives`` body."""

    ref: str
    env: Any
    schema: Any
    format: str
    expires_in: int | None


ARCHIVE_FIELDS: Final = frozenset({"ref", "env", "schema", "format", "expires_in"})


def parse_archive_request(data: Any) -> ArchiveRequest:
    """Return the checked fields of an archive request."""
    if not isinstance(data, Mapping):
        raise InvalidRequestError("body: must be a JSON object")
    if unknown := sorted(set(data) - ARCHIVE_FIELDS):
        raise InvalidRequestError(f"unknown fields: {', '.join(map(str, unknown))}")
    ref = data.get("ref")
    if not isinstance(ref, str):
        raise InvalidRequestError("ref: required, a branch, tag or commit id")
    fmt = data.get("format", "tar.gz")
    if fmt not in ("tar.gz", "zip"):
        raise InvalidRequestError("format: tar.gz or zip")
    for key in ("env", "schema"):
        if not isinstance(data.get(key), Mapping):
            raise InvalidRequestError(f"{key}: required, the unit's {key}.json as a JSON object")
    expires_in = _int(data, "expires_in", 1, 7 * 24 * 3600)
    return ArchiveRequest(ref, data["env"], data["schema"], fmt, expires_in)
