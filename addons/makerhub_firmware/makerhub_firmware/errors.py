"""Errors the service answers with: each has an HTTP status and a stable code.

Every refusal carries a precise message (what, where, why) and is counted by code
(see :class:`RefusalCounter`), so hostile or broken input is visible without a log flood.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar


class FirmwareError(Exception):
    """An error with an HTTP status, a stable machine code and an exact message."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, message: str, *, details: list[dict[str, str]] | None = None) -> None:
        """Keep the message and, for validation errors, the located issues."""
        super().__init__(message)
        self.message = message
        self.details = details or []

    def to_json(self) -> dict[str, Any]:
        """Return the JSON body of the error response."""
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class InvalidRequestError(FirmwareError):
    """The request itself is malformed: bad JSON, a missing field, a wrong type."""

    code = "invalid_request"


class RefusedError(FirmwareError):
    """Hostile or unacceptable input: a URL, a ref, repository content."""

    status = 422
    code = "refused"


class TooLargeError(RefusedError):
    """Over a size limit: the repository, one file, a download, a request body."""

    status = 413
    code = "too_large"


class InvalidSchemaError(RefusedError):
    """The repository's makerhub.json / Pepeunit files are missing or invalid."""

    code = "invalid_schema"


class NotFoundError(FirmwareError):
    """No such repository, ref, archive or release asset."""

    status = 404
    code = "not_found"


class ConflictError(FirmwareError):
    """The request clashes with the current state (e.g. repository not synced yet)."""

    status = 409
    code = "conflict"


class UnauthorizedError(FirmwareError):
    """No or wrong bearer token, bad or expired signature."""

    status = 401
    code = "unauthorized"


class UpstreamError(FirmwareError):
    """A git remote or a releases API failed or answered something unusable."""

    status = 502
    code = "upstream_failed"


class RefusalCounter:
    """Counts refusals by error code; the totals are reported by ``/api/health``."""

    def __init__(self) -> None:
        """Start with no refusals."""
        self._counts: Counter[str] = Counter()

    def count(self, error: FirmwareError) -> None:
        """Record one refusal."""
        self._counts[error.code] += 1

    def snapshot(self) -> dict[str, int]:
        """Return the counts so far, by code."""
        return dict(sorted(self._counts.items()))
