"""Input checked before anything is touched: project ids and clone URLs.

Project ids become file names and (with a prefix) operating-system user names, so only
``[a-z0-9]`` with inner ``-``/``_`` is accepted, at most 24 characters: no ``/``, ``..``,
shell metacharacters or leading dash can reach a path or a command line.

Clone URLs: ``https://host/path``, ``ssh://[user@]host[:port]/path`` or ``user@host:path``;
``http`` and ``git`` only when the operator allows them; local paths or ``file://`` only
inside one of the operator's allowed roots (and never inside the service's data). Refused
with the reason: transport helpers (``ext::cmd``, ``fd::``), anything starting with ``-``
(``--upload-pack=…``), credentials inside the URL, control characters.
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

PROJECT_ID_RE: Final = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,22}[a-z0-9])?")
MAX_URL_LENGTH: Final = 2048
NETWORK_SCHEMES: Final = frozenset({"https", "ssh", "http", "git"})
_SCHEME_RE: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_HELPER_RE: Final = re.compile(r"([A-Za-z0-9][A-Za-z0-9+.-]*)::")
_SCP_RE: Final = re.compile(r"(?:(?P<user>[^@/:\s]+)@)?(?P<host>[^@/:\s]+):(?P<path>.*)")
_HOST_RE: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|[0-9A-Fa-f:.]+")
_USER_RE: Final = re.compile(r"[A-Za-z0-9._][A-Za-z0-9._-]{0,63}")


def check_project_id(value: object) -> str:
    """Return ``value`` if it is a safe project id, else raise :class:`RefusedError`."""
    if not isinstance(value, str) or PROJECT_ID_RE.fullmatch(value) is None:
        shown = repr(value)[:40] if isinstance(value, str) else type(value).__name__
        raise RefusedError(
            f"project id {shown}: 1 to 24 characters a-z, 0-9, inner '-' or '_' only"
        )
    return value


@dataclass(frozen=True, slots=True)
class CloneUrl:
    """A clone URL that passed every check; ``url`` is what git is given."""

    url: str
    scheme: str

    def __str__(self) -> str:
        """Return the URL (it never holds credentials)."""
        return self.url


def parse_clone_url(
    text: object,
    allowed_schemes: Iterable[str],
    allowed_roots: Iterable[Path] = (),
    forbidden_roots: Iterable[Path] = (),
) -> CloneUrl:
    """Return ``text`` as a :class:`CloneUrl`, or raise :class:`RefusedError` saying why."""
    allowed = frozenset(allowed_schemes)
    if not isinstance(text, str) or not text:
        raise RefusedError("repository.url: required, a git clone URL")
    if len(text) > MAX_URL_LENGTH:
        raise RefusedError(f"repository.url: longer than {MAX_URL_LENGTH} characters")
    if text.startswith("-"):
        raise RefusedError(
            "repository.url: must not start with '-' (it would be read as a git option)"
        )
    if (helper := _HELPER_RE.match(text)) is not None:
        raise RefusedError(
            f"repository.url: the {helper.group(1)}:: transport runs programs and is refused"
        )
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in text):
        raise RefusedError("repository.url: contains whitespace or control characters")
    if (scheme_match := _SCHEME_RE.match(text)) is not None:
        scheme = scheme_match.group(1).lower()
        if scheme == "file":
            return _local(text[len("file://") :], allowed_roots, forbidden_roots)
        if scheme not in NETWORK_SCHEMES or scheme not in allowed:
            raise RefusedError(
                f"repository.url: the {scheme} scheme is not allowed here; "
                f"allowed: {', '.join(sorted(allowed & NETWORK_SCHEMES))}"
            )
        return _network(text, scheme)
    if (scp := _SCP_RE.fullmatch(text)) is not None and "/" not in text.split(":", 1)[0]:
        if "ssh" not in allowed:
            raise RefusedError("repository.url: ssh is not allowed here")
        _check_user(scp.group("user"))
        _check_host(scp.group("host"))
        _check_path(scp.group("path"))
        return CloneUrl(text, "ssh")
    return _local(text, allowed_roots, forbidden_roots)


def _network(text: str, scheme: str) -> CloneUrl:
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018  (raises ValueError on a malformed port)
    except ValueError:
        raise RefusedError("repository.url: invalid port") from None
    if parts.password is not None or (parts.username is not None and scheme != "ssh"):
        raise RefusedError(
            "repository.url: credentials inside the URL are refused; give them as token"
        )
    _check_user(parts.username)
    if not parts.hostname:
        raise RefusedError("repository.url: no host")
    _check_host(parts.hostname)
    _check_path(parts.path.lstrip("/"))
    if parts.query or parts.fragment:
        raise RefusedError("repository.url: a clone URL has no query or fragment")
    return CloneUrl(text, scheme)


def _local(
    path_text: str, allowed_roots: Iterable[Path], forbidden_roots: Iterable[Path]
) -> CloneUrl:
    if not path_text.startswith("/"):
        raise RefusedError("repository.url: a local repository must be an absolute path")
    resolved = Path(os.path.realpath(path_text))
    for root in forbidden_roots:
        if _inside(resolved, root):
            raise RefusedError("repository.url: refers to the desktops service's own data")
    if not any(_inside(resolved, root) for root in allowed_roots):
        raise RefusedError(
            "repository.url: local repositories are only allowed inside the operator's "
            "allowed roots (--allow-file-root)"
        )
    return CloneUrl(f"file://{resolved}", "file")


def _inside(path: Path, root: Path) -> bool:
    real_root = Path(os.path.realpath(root))
    return path == real_root or real_root in path.parents


def _check_user(user: str | None) -> None:
    if user is not None and _USER_RE.fullmatch(user) is None:
        raise RefusedError("repository.url: invalid user name")


def _check_host(host: str) -> None:
    if _HOST_RE.fullmatch(host) is None:
        raise RefusedError(f"repository.url: invalid host {host[:64]!r}")


def _check_path(path: str) -> None:
    if not path:
        raise RefusedError("repository.url: no repository path")
    if path.startswith("-"):
        raise RefusedError("repository.url: the repository path must not start with '-'")
    if any(part == ".." for part in path.split("/")):
        raise RefusedError("repository.url: the repository path must not contain '..'")
