"""What a display shows: the ``show``/``target`` inputs turned into one safe address."""

from __future__ import annotations

import contextlib
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


HUB_PAGES = {
    "/api/makerhub/display/idle": Show.IDLE,
    "/api/makerhub/display/desktop": Show.DESKTOP,
}
"""Home Assistant's pages for a display, by path: ``makerhub.show_on_display`` sends a
signed path of one of them as the ``target`` (the agent puts ``ha_url`` in front)."""


def hub_page(target: str) -> Show | None:
    """Return which ``show`` a hub page path such as ``/api/makerhub/display/idle?…`` is
    for (None: ``target`` is not one)."""
    return HUB_PAGES.get(target.strip().split("?", 1)[0])


def hub_page_url(sources: Sources, target: str) -> str:
    """Return the address of a hub page path on Home Assistant."""
    if sources.ha_url is None:
        raise TargetError("a Home Assistant page needs ha_url in the display's configuration")
    return check_url(f"{sources.ha_url.rstrip('/')}{target.strip()}")


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


def idle_url(sources: Sources, target: str = "") -> str | None:
    """Return Home Assistant's idle page, or None (then the built-in one is shown).

    ``target``: the idle page Home Assistant signed for this display, when ``show`` is
    idle (any other target is ignored: idle always shows something).
    """
    if sources.ha_url is None:
        return None
    if hub_page(target) is Show.IDLE:
        with contextlib.suppress(TargetError):
            return hub_page_url(sources, target)
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
    if mode is Show.DESKTOP and hub_page(target) is Show.DESKTOP:
        return hub_page_url(sources, target)  # mints a fresh connect token on each load
    # A desktop's connect URL (makerhub.desktop_url) and any address are checked alike.
    return check_url(target)
