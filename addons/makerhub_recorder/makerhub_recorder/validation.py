"""Input checked before anything is touched: stream addresses, ids, names.

A camera's **source** becomes an ffmpeg input, so only what a camera is passes:

- ``rtsp://`` / ``rtsps://`` (an IP camera) and ``http://`` / ``https://`` (MJPEG), with
  a host, an optional port and optional credentials;
- an absolute path to a V4L2 device inside one of the allowed device roots (``/dev`` by
  default), checked after resolving ``..`` and symbolic links.

Everything else is refused with the reason, in particular ffmpeg's own protocols that read
files or run pipes (``file:``, ``concat:``, ``subfile:``, ``pipe:``, ``data:``, ``tee:``…),
anything starting with ``-`` (it would be read as an option), whitespace and control
characters. Ids and names become file names, so they are a small alphabet with no ``/``,
no ``..`` and no leading dash.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
import hashlib
import os
from pathlib import Path
import re
from typing import Final
from urllib.parse import quote, unquote, urlsplit

from .errors import InvalidRequestError, RefusedError

MAX_SOURCE_LENGTH: Final = 2048
STREAM_SCHEMES: Final = {"rtsp": "rtsp", "rtsps": "rtsp", "http": "mjpeg", "https": "mjpeg"}
"""Accepted URL schemes and the camera kind each means."""
CAMERA_ID_RE: Final = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?")
PROJECT_ID_RE: Final = CAMERA_ID_RE
SERIAL_RE: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?")
DAY_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
FILE_NAME_RE: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,80}\.(?:mp4|jpg)")
_SCHEME_RE: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_HOST_RE: Final = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|[0-9a-f]*:[0-9a-f:.]+")


@dataclass(frozen=True, slots=True)
class CameraSource:
    """A source that passed every check."""

    kind: str
    """``rtsp``, ``mjpeg`` or ``v4l2``."""
    url: str
    """What ffmpeg is given (credentials included)."""
    identity: str
    """The stream address without credentials: what the camera is."""

    @property
    def redacted(self) -> str:
        """The address as shown in answers and logs."""
        return self.identity

    @property
    def has_credentials(self) -> bool:
        """Whether the URL carries a user or password."""
        return self.url != self.identity


def _refuse(message: str) -> RefusedError:
    return RefusedError(f"source: {message}")


def parse_source(text: object, device_roots: Iterable[Path] = (Path("/dev"),)) -> CameraSource:
    """Return ``text`` as a :class:`CameraSource`, or raise :class:`RefusedError` saying why."""
    if not isinstance(text, str) or not text:
        raise InvalidRequestError("source: required, a stream address or a V4L2 device path")
    if len(text) > MAX_SOURCE_LENGTH:
        raise _refuse(f"longer than {MAX_SOURCE_LENGTH} characters")
    if text.startswith("-"):
        raise _refuse("must not start with '-' (ffmpeg would read it as an option)")
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in text):
        raise _refuse("contains whitespace or control characters")
    if text.startswith("/"):
        return _parse_device(text, tuple(device_roots))
    scheme_match = _SCHEME_RE.match(text)
    if scheme_match is None:
        raise _refuse("neither a URL (rtsp, rtsps, http, https) nor an absolute device path")
    scheme = scheme_match.group(1).lower()
    if scheme not in STREAM_SCHEMES:
        raise _refuse(
            f"the {scheme}: protocol is refused (only rtsp, rtsps, http and https cameras, "
            "or a V4L2 device path)"
        )
    if not text[len(scheme) + 1 :].startswith("//"):
        raise _refuse(f"{scheme}: needs '//host'")
    parts = urlsplit(text)
    if parts.fragment:
        raise _refuse("a fragment ('#…') is not part of a stream address")
    host = parts.hostname
    if not host or _HOST_RE.fullmatch(host) is None:
        raise _refuse(f"{scheme}: host missing or invalid")
    try:
        port = parts.port
    except ValueError:
        raise _refuse("port is not a number from 1 to 65535") from None
    if port == 0:
        raise _refuse("port is not a number from 1 to 65535")
    host_text = f"[{host}]" if ":" in host else host
    netloc = host_text if port is None else f"{host_text}:{port}"
    query = f"?{parts.query}" if parts.query else ""
    identity = f"{scheme}://{netloc}{parts.path}{query}"
    url = identity
    if parts.username is not None or parts.password is not None:
        user = quote(unquote(parts.username or ""), safe="")
        password = quote(unquote(parts.password or ""), safe="")
        url = f"{scheme}://{user}:{password}@{netloc}{parts.path}{query}"
    return CameraSource(kind=STREAM_SCHEMES[scheme], url=url, identity=identity)


def _parse_device(text: str, roots: tuple[Path, ...]) -> CameraSource:
    resolved = Path(os.path.realpath(text))
    for root in roots:
        real_root = Path(os.path.realpath(root))
        if resolved.is_relative_to(real_root) and resolved != real_root:
            return CameraSource(kind="v4l2", url=str(resolved), identity=str(resolved))
    allowed = ", ".join(str(root) for root in roots) or "none"
    raise _refuse(f"local path {text!r} is outside the allowed device roots ({allowed})")


def camera_id_for(source: CameraSource, serial: str | None) -> str:
    """The camera's id: from its serial number if it has one, else from its address.

    Never from where it stands or what it is called: a moved or renamed camera keeps its
    id, and the same stream added twice is the same camera.
    """
    if serial is not None:
        return "sn-" + re.sub(r"[^a-z0-9]+", "-", serial.lower()).strip("-")[:60]
    return "cam-" + hashlib.sha256(source.identity.encode()).hexdigest()[:12]


def check_camera_id(value: object) -> str:
    """Return ``value`` if it is a well-formed camera id, else raise."""
    if not isinstance(value, str) or CAMERA_ID_RE.fullmatch(value) is None:
        raise RefusedError(f"camera id {_shown(value)}: a-z, 0-9, inner '-' or '_' only")
    return value


def check_project_id(value: object) -> str:
    """Return ``value`` if it is a well-formed project id, else raise."""
    if not isinstance(value, str) or PROJECT_ID_RE.fullmatch(value) is None:
        raise RefusedError(
            f"project {_shown(value)}: 1 to 64 characters a-z, 0-9, inner '-' or '_' only"
        )
    return value


def check_serial(value: object) -> str | None:
    """Return the serial number (None when absent), or raise if it is malformed."""
    if value is None:
        return None
    if not isinstance(value, str) or SERIAL_RE.fullmatch(value) is None:
        raise RefusedError(f"serial {_shown(value)}: 1 to 64 characters A-Z, a-z, 0-9, . _ -")
    return value


def check_day(value: object) -> str:
    """Return ``value`` if it is a day ``YYYY-MM-DD``, else raise."""
    if not isinstance(value, str) or DAY_RE.fullmatch(value) is None:
        raise RefusedError(f"day {_shown(value)}: YYYY-MM-DD")
    return value


def check_file_name(value: object) -> str:
    """Return ``value`` if it is one of the service's own file names, else raise."""
    if not isinstance(value, str) or FILE_NAME_RE.fullmatch(value) is None:
        raise RefusedError(f"file name {_shown(value)}: not a recording's file name")
    return value


def check_name(value: object) -> str:
    """Return a camera's display name (1 to 100 printable characters)."""
    if not isinstance(value, str) or not 1 <= len(value) <= 100:
        raise RefusedError("name: 1 to 100 characters")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        raise RefusedError("name: contains control characters")
    return value


def _shown(value: object) -> str:
    return repr(value)[:40] if isinstance(value, str) else type(value).__name__
