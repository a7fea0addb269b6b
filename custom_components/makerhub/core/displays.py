"""Displays, without Home Assistant: which units are displays, what a display may be told
to show, and the signed hub pages a display loads without a Home Assistant login.

A display is a unit whose schema has the display agent's ``show`` (an enum with at least
``idle``, ``desktop``, ``dashboard`` and ``url``) and ``target`` (a string) inputs.

The hub's pages for a display (its idle page, and the desktop redirect that mints a fresh
connect token on each load) are authenticated by a signature over what they show, made
with a key derived from the hub's secret key: a kiosk has no Home Assistant login, and a
page it reloads days later still opens. The display is told the page's path; the agent
puts its ``ha_url`` in front.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
import hashlib
import hmac
import re
from typing import Final
from urllib.parse import urlencode, urlsplit

from .schema import UnitSchema, VarType

IDLE_PATH: Final = "/api/makerhub/display/idle"
"""The idle page (the agent's default idle address, ``targets.Sources.idle_path``)."""
IDLE_STATUS_PATH: Final = "/api/makerhub/display/idle/status"
"""What the idle page polls: the space's state, live."""
DESKTOP_PATH: Final = "/api/makerhub/display/desktop"
"""Redirects to a fresh connect URL of a project's desktop."""
SIGNATURE_HEX: Final = 32
"""128 bits of HMAC-SHA256, in hex: enough, and the path fits a 255-character target."""
ALLOWED_SCHEMES: Final = ("http", "https")


class ShowWhat(StrEnum):
    """What ``makerhub.show_on_display`` can put on a display (the agent's ``show``)."""

    IDLE = "idle"
    DESKTOP = "desktop"
    DASHBOARD = "dashboard"
    URL = "url"


class PagePurpose(StrEnum):
    """Which hub page a signature opens."""

    IDLE = "idle"
    DESKTOP = "desktop"


class TargetRefusedError(ValueError):
    """A target a display must not be told to show; the message says why."""


def is_display(schema: UnitSchema) -> bool:
    """Return whether a unit with ``schema`` is a display (the display agent's inputs)."""
    show, target = schema.inputs.get("show"), schema.inputs.get("target")
    return (
        show is not None
        and show.type is VarType.ENUM
        and {what.value for what in ShowWhat} <= set(show.options)
        and target is not None
        and target.type is VarType.STR
    )


def check_web_address(target: str) -> str:
    """Return ``target`` stripped if it is an http(s) address with a host; raise
    :class:`TargetRefusedError` otherwise (``javascript:``, ``file:``, ``data:``, …)."""
    text = target.strip()
    try:
        parts = urlsplit(text)
    except ValueError as err:
        raise TargetRefusedError(f"{text[:60]!r} is not an address: {err}") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        shown = f"{scheme}:" if scheme else "no scheme"
        raise TargetRefusedError(f"scheme {shown} is not allowed: only http and https are")
    if not parts.hostname:
        raise TargetRefusedError(f"{text[:60]!r} has no host")
    return text


def check_dashboard_path(target: str) -> str:
    """Return a dashboard path such as ``lovelace/0`` (no scheme, no ``..``) cleaned;
    raise :class:`TargetRefusedError` otherwise."""
    clean = target.strip().lstrip("/")
    first = clean.split("/", 1)[0]
    if not clean or ":" in first or ".." in clean.split("/") or "\\" in clean:
        raise TargetRefusedError(f"{target[:60]!r} is not a dashboard path like lovelace/0")
    return clean


def signature(key: bytes, purpose: PagePurpose, uid: str, subject: str = "") -> str:
    """Return the signature of a display's hub page (``subject``: the project shown)."""
    message = f"{purpose.value}\n{uid}\n{subject}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:SIGNATURE_HEX]


def signature_valid(key: bytes, purpose: PagePurpose, uid: str, subject: str, given: str) -> bool:
    """Return whether ``given`` is the signature of that page (in constant time)."""
    return hmac.compare_digest(signature(key, purpose, uid, subject), given)


def idle_page_path(key: bytes, uid: str) -> str:
    """Return the signed path of a display's idle page."""
    query = urlencode({"display": uid, "sig": signature(key, PagePurpose.IDLE, uid)})
    return f"{IDLE_PATH}?{query}"


def desktop_subject(project_id: str, role: str) -> str:
    """Return what a desktop page's signature covers: the project and the role."""
    return f"{project_id}\n{role}"


def desktop_page_path(key: bytes, uid: str, project_id: str, role: str) -> str:
    """Return the signed path that sends a display to a project's desktop as ``role``."""
    sig = signature(key, PagePurpose.DESKTOP, uid, desktop_subject(project_id, role))
    query = urlencode({"display": uid, "project": project_id, "role": role, "sig": sig})
    return f"{DESKTOP_PATH}?{query}"


_ADDRESS_SECRET: Final = re.compile(r"(?i)([?&](?:sig|token)=)[^&#\s]*")
REDACTED: Final = "**REDACTED**"


def redact_address_secrets[V](values: Mapping[str, V]) -> dict[str, V | str]:
    """Return ``values`` with the signatures and tokens in addresses redacted (a display's
    ``target`` is a signed hub page or a connect URL), for diagnostics."""
    return {
        name: _ADDRESS_SECRET.sub(rf"\g<1>{REDACTED}", value) if isinstance(value, str) else value
        for name, value in values.items()
    }
