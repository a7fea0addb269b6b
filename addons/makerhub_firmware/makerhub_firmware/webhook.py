"""Push webhooks from GitHub and Gitea, authenticated by their HMAC-SHA256 signature.

GitHub sends ``X-Hub-Signature-256: sha256=<hex>`` and ``X-GitHub-Event``; Gitea sends
``X-Gitea-Signature: <hex>`` and ``X-Gitea-Event``. Both sign the raw request body with
the secret configured on the hook; the comparison is constant-time.
"""

from __future__ import annotations

from collections.abc import Mapping
import hashlib
import hmac
from typing import Final

from .errors import UnauthorizedError

MAX_BODY: Final = 5 * 1024 * 1024
EVENT_HEADERS: Final = ("X-GitHub-Event", "X-Gitea-Event", "X-Gogs-Event")


def verify_signature(secret: bytes, body: bytes, headers: Mapping[str, str]) -> None:
    """Raise :class:`UnauthorizedError` unless ``body`` carries a valid signature."""
    if (github := headers.get("X-Hub-Signature-256")) is not None:
        if not github.startswith("sha256="):
            raise UnauthorizedError("webhook: X-Hub-Signature-256 must look like sha256=<hex>")
        given = github.removeprefix("sha256=")
    elif (gitea := headers.get("X-Gitea-Signature")) is not None:
        given = gitea
    else:
        raise UnauthorizedError("webhook: no X-Hub-Signature-256 or X-Gitea-Signature header")
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), given.strip().lower().encode()):
        raise UnauthorizedError("webhook: signature does not match")


def event_name(headers: Mapping[str, str]) -> str:
    """Return the event type the sender declared (``push``, ``ping``, ...)."""
    for header in EVENT_HEADERS:
        if (value := headers.get(header)) is not None:
            return value.strip().lower()[:64]
    return "push"
