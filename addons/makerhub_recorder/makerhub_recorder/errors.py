"""Errors the service answers with: each has an HTTP status and a stable code."""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar


class RecorderError(Exception):
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


class InvalidRequestError(RecorderError):
    """The request itself is malformed: bad JSON, a missing field, a wrong type."""

    code = "invalid_request"


class RefusedError(RecorderError):
    """Hostile or unacceptable input: a stream address, an id, a name."""

    status = 422
    code = "refused"


class UnknownCameraError(RecorderError):
    """No camera with this id."""

    status = 404
    code = "unknown_camera"


class NotFoundError(RecorderError):
    """No such recording, segment, time-lapse or snapshot (or not finished yet)."""

    status = 404
    code = "not_found"


class ConflictError(RecorderError):
    """The request clashes with what exists (the same camera added twice)."""

    status = 409
    code = "conflict"


class UnauthorizedError(RecorderError):
    """No or wrong API bearer token."""

    status = 401
    code = "unauthorized"


class UnavailableError(RecorderError):
    """The camera gives no picture right now (lost, reconnecting)."""

    status = 503
    code = "unavailable"


class RefusalCounter:
    """Counts refusals by error code; the totals are reported by ``/api/health``."""

    def __init__(self) -> None:
        """Start with no refusals."""
        self._counts: Counter[str] = Counter()

    def count(self, error: RecorderError) -> None:
        """Record one refusal."""
        self._counts[error.code] += 1

    def snapshot(self) -> dict[str, int]:
        """Return the counts so far, by code."""
        return dict(sorted(self._counts.items()))
