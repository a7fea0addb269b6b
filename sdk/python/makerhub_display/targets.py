"""What a display shows: the ``show``/``target`` inputs turned into one safe address."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote, urlsplit


class Show(StrEnum):
    """The ``show`` input's values."""

    IDLE = "idle"
    DESKTOP = "desktop"
    DASHBOARD = "dashboard"
    URL = "url"


ALLOWED_SCHEMES = ("http", "https")


class TargetError(ValueError):
    """A target the display refuses to show; the message says why."""


@dataclass(frozen=True)
class Sources:
    """Where the display's own pages are: Home Assistant and its idle page."""

    ha_url: str | None = None
    idle_path: str = "/api/makerhub/display/idle"


def check_url(target: str) -> str:
    """Return ``target`` if it is an http/https address with a host; raise TargetError."""
    text = target.strip()
    if not text:
        raise TargetError("target is empty: an http or https address is needed")
    try:
        parts = urlsplit(text)
    except ValueError as err:
        raise TargetError(f"target {text[:60]!r} is not an address: {err}") from err
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        shown = f"{scheme}:" if scheme else "no scheme"
        raise TargetError(f"target scheme {shown} is not allowed: only http and https are")
    if not parts.hostname:
        raise TargetError(f"target {text[:60]!r} has no host")
    return text


def dashboard_url(sources: Sources, path: str) -> str:
    """Return the address of a Home Assistant dashboard path such as ``lovelace/0``."""
    if sources.ha_url is None:
        raise TargetError("a dashboard needs ha_url in the display's configuration")
    clean = path.strip().lstrip("/")
    if not clean or ":" in clean.split("/", 1)[0] or ".." in clean.split("/"):
        raise TargetError(f"dashboard path {path[:60]!r} is not a dashboard path like lovelace/0")
    return f"{sources.ha_url.rstrip('/')}/{quote(clean, safe='/?=&-_.~')}"


def idle_url(sources: Sources) -> str | None:
    """Return Home Assistant's idle page, or None (then the built-in one is shown)."""
    if sources.ha_url is None:
        return None
    return f"{sources.ha_url.rstrip('/')}{sources.idle_path}"


def resolve(show: str, target: str, sources: Sources) -> str | None:
    """Return the address for ``show``/``target``; None means the idle page.

    Raises TargetError for an unknown ``show`` or a target that is not allowed.
    """
    try:
        mode = Show(show)
    except ValueError:
        allowed = ", ".join(s.value for s in Show)
        raise TargetError(f"show {show!r} is not one of {allowed}") from None
    if mode is Show.IDLE:
        return None
    if mode is Show.DASHBOARD:
        return dashboard_url(sources, target)
    # A desktop's connect URL (makerhub.desktop_url) and any address are checked alike.
    return check_url(target)
