"""Clone URLs: what the service accepts, checked before git ever sees one.

Accepted: ``https://host/path`` and ``ssh://[user@]host[:port]/path`` or the scp form
``user@host:path`` — plus ``http``, ``git`` and ``file`` only when the operator allows them
(tests use them for local fakes). RefusedError, with the reason: transport helpers
(``ext::cmd``, ``fd::``), anything starting with ``-`` (option injection such as
``--upload-pack=…``), credentials inside the URL, control characters, and any local path
inside the service's own data directory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
import os
from pathlib import Path
import re
from typing import Final
from urllib.parse import urlsplit

from .errors import RefusedError

MAX_URL_LENGTH: Final = 2048
_SCHEME_RE: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_HELPER_RE: Final = re.compile(r"([A-Za-z0-9][A-Za-z0-9+.-]*)::")
_SCP_RE: Final = re.compile(r"(?:(?P<user>[^@/:\s]+)@)?(?P<host>[^@/:\s]+):(?P<path>.*)")
_HOST_RE: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|[0-9A-Fa-f:.]+")
_USER_RE: Final = re.compile(r"[A-Za-z0-9._][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True, slots=True)
class CloneUrl:
    """A clone URL that passed every check; ``url`` is what git is given."""

    url: str
    scheme: str
    host: str | None

    def __str__(self) -> str:
        """Return the URL (it never holds credentials)."""
        return self.url


def parse_clone_url(
    text: object, allowed_schemes: Iterable[str], forbidden_roots: Iterable[Path] = ()
) -> CloneUrl:
    """Return ``text`` as a :class:`CloneUrl`, or raise :class:`RefusedError` saying why."""
    allowed = frozenset(allowed_schemes)
    if not isinstance(text, str) or not text:
        raise RefusedError("url: required, a git clone URL")
    if len(text) > MAX_URL_LENGTH:
        raise RefusedError(f"url: longer than {MAX_URL_LENGTH} characters")
    if text.startswith("-"):
        raise RefusedError("url: must not start with '-' (it would be read as a git option)")
    if (helper := _HELPER_RE.match(text)) is not None:
        raise RefusedError(
            f"url: the {helper.group(1)}:: transport runs programs and is refused; "
            "use https:// or ssh://"
        )
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in text):
        raise RefusedError("url: contains whitespace or control characters")
    if (scheme_match := _SCHEME_RE.match(text)) is not None:
        scheme = scheme_match.group(1).lower()
        _require_allowed(scheme, allowed)
        if scheme == "file":
            return _local(text[len("file://") :], allowed, forbidden_roots)
        return _network(text, scheme)
    if (scp := _SCP_RE.fullmatch(text)) is not None and "/" not in text.split(":", 1)[0]:
        _require_allowed("ssh", allowed)
        _check_user(scp.group("user"))
        _check_host(scp.group("host"))
        _check_path(scp.group("path"))
        return CloneUrl(text, "ssh", scp.group("host"))
    return _local(text, allowed, forbidden_roots)


def _require_allowed(scheme: str, allowed: frozenset[str]) -> None:
    if scheme not in allowed:
        raise RefusedError(
            f"url: the {scheme} scheme is not allowed here; allowed: {', '.join(sorted(allowed))}"
        )


def _network(text: str, scheme: str) -> CloneUrl:
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018  (raises ValueError on a malformed port)
    except ValueError:
        raise RefusedError("url: invalid port") from None
    host = parts.hostname
    if parts.password is not None or (parts.username is not None and scheme != "ssh"):
        raise RefusedError(
            "url: credentials inside the URL are refused; give them as token or ssh_key"
        )
    _check_user(parts.username)
    if not host:
        raise RefusedError("url: no host")
    _check_host(host)
    _check_path(parts.path.lstrip("/"))
    if parts.query or parts.fragment:
        raise RefusedError("url: a clone URL has no query or fragment")
    return CloneUrl(text, scheme, host.lower())


def _local(path_text: str, allowed: frozenset[str], forbidden_roots: Iterable[Path]) -> CloneUrl:
    _require_allowed("file", allowed)
    if not path_text.startswith("/"):
        raise RefusedError("url: a local repository must be an absolute path")
    resolved = Path(os.path.realpath(path_text))
    for root in forbidden_roots:
        real_root = Path(os.path.realpath(root))
        if resolved == real_root or real_root in resolved.parents:
            raise RefusedError("url: refers to the firmware service's own data, which is refused")
    return CloneUrl(f"file://{resolved}", "file", None)


def _check_user(user: str | None) -> None:
    if user is not None and _USER_RE.fullmatch(user) is None:
        raise RefusedError("url: invalid user name")


def _check_host(host: str) -> None:
    if _HOST_RE.fullmatch(host) is None:
        raise RefusedError(f"url: invalid host {host[:64]!r}")


def _check_path(path: str) -> None:
    if not path:
        raise RefusedError("url: no repository path")
    if path.startswith("-"):
        raise RefusedError("url: the repository path must not start with '-'")
    if any(part == ".." for part in path.split("/")):
        raise RefusedError("url: the repository path must not contain '..'")
