"""Errors the service answers with: each has an HTTP status and a stable code."""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar


class DesktopError(Exception):
    """An error with an HTTP status, a stable machine code and an exact message."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, message: str) -> None:
        """Keep the message (it never holds a credential)."""
        super().__init__(message)
        self.message = message

    def to_json(self) -> dict[str, Any]:
        """Return the JSON body of the error response."""
        return {"error": self.code, "message": self.message}


class InvalidRequestError(DesktopError):
    """The request itself is malformed: bad JSON, a missing field, a wrong type."""

    code = "invalid_request"


class RefusedError(DesktopError):
    """Hostile or unacceptable input: a project id, a URL, repository content."""

    status = 422
    code = "refused"


class UnknownProjectError(DesktopError):
    """No desktop for this project (never started, or forgotten)."""

    status = 404
    code = "unknown_project"


class CloneFailedError(DesktopError):
    """git could not clone the repository (the message is git's, credentials redacted)."""

    status = 502
    code = "clone_failed"


class NoCapacityError(DesktopError):
    """Every desktop slot is taken by a desktop someone is connected to."""

    status = 503
    code = "no_capacity"


class UnauthorizedError(DesktopError):
    """No or wrong API bearer token."""

    status = 401
    code = "unauthorized"


class BadConnectTokenError(DesktopError):
    """A connect token that is unknown, expired or already used."""

    status = 403
    code = "bad_token"


class ConflictError(DesktopError):
    """The request clashes with the current state (a controller is already connected)."""

    status = 409
    code = "conflict"


class DesktopFailedError(DesktopError):
    """The desktop's programs did not start."""

    status = 500
    code = "desktop_failed"


class RefusalCounter:
    """Counts refusals by error code; the totals are reported by ``/api/health``."""

    def __init__(self) -> None:
        """Start with no refusals."""
        self._counts: Counter[str] = Counter()

    def count(self, error: DesktopError) -> None:
        """Record one refusal."""
        self._counts[error.code] += 1

    def snapshot(self) -> dict[str, int]:
        """Return the counts so far, by code."""
        return dict(sorted(self._counts.items()))
