"""Short-lived signed URLs, so a unit downloads its archive without the admin token.

The signature is HMAC-SHA256 over the request path and the expiry time; it is compared
in constant time, and the expiry is part of what is signed, so it cannot be extended.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Final
from urllib.parse import urlencode

from .errors import InvalidRequestError, UnauthorizedError

DEFAULT_TTL: Final = 600
MAX_TTL: Final = 7 * 24 * 3600


class UrlSigner:
    """Signs and verifies ``path?expires=…&signature=…``."""

    def __init__(self, key: bytes, default_ttl: int = DEFAULT_TTL) -> None:
        """Use ``key`` (32 bytes, derived from the service key) for every signature."""
        self._key = key
        self.default_ttl = default_ttl

    def _signature(self, path: str, expires: int) -> str:
        message = f"{path}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def sign(self, path: str, ttl: int | None = None, now: float | None = None) -> tuple[str, int]:
        """Return the signed path (with its query) and the expiry (unix seconds)."""
        ttl = self.default_ttl if ttl is None else ttl
        if not 1 <= ttl <= MAX_TTL:
            raise InvalidRequestError(f"expires_in: must be 1 to {MAX_TTL} seconds")
        expires = int(now if now is not None else time.time()) + ttl
        query = urlencode({"expires": expires, "signature": self._signature(path, expires)})
        return f"{path}?{query}", expires

    def verify(
        self, path: str, expires: str | None, signature: str | None, now: float | None = None
    ) -> None:
        """Raise :class:`UnauthorizedError` unless the signature is valid and not expired."""
        if not expires or not signature:
            raise UnauthorizedError("signed URL required: expires and signature are missing")
        if not expires.isdigit() or len(expires) > 12:
            raise UnauthorizedError("signed URL: invalid expires")
        expected = self._signature(path, int(expires))
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise UnauthorizedError("signed URL: invalid signature")
        if int(expires) < (now if now is not None else time.time()):
            raise UnauthorizedError("signed URL: expired")
