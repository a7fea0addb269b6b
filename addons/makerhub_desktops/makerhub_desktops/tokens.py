"""Connect tokens: short-lived, single-use permission to open one desktop in one role."""

from __future__ import annotations

from dataclasses import dataclass
import enum
import hashlib
import secrets
from typing import Final

from .clock import Clock
from .errors import BadConnectTokenError

DEFAULT_TTL: Final = 60
MAX_TOKENS: Final = 10_000


class Role(enum.StrEnum):
    """What a connection may do."""

    CONTROLLER = "controller"
    VIEWER = "viewer"


@dataclass(frozen=True, slots=True)
class Grant:
    """What a token allows."""

    project: str
    role: Role
    expires: float


class ConnectTokens:
    """Issued tokens, kept only as hashes in memory (a restart invalidates them)."""

    def __init__(self, clock: Clock, ttl: float = DEFAULT_TTL) -> None:
        """Tokens live ``ttl`` seconds on ``clock``."""
        self.clock = clock
        self.ttl = ttl
        self._grants: dict[bytes, Grant] = {}

    @staticmethod
    def _key(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def issue(self, project: str, role: Role, ttl: float | None = None) -> tuple[str, Grant]:
        """Return a new token and its grant."""
        self._purge()
        if len(self._grants) >= MAX_TOKENS:
            oldest = min(self._grants, key=lambda key: self._grants[key].expires)
            del self._grants[oldest]
        token = secrets.token_urlsafe(32)
        grant = Grant(project, role, self.clock.now() + (ttl or self.ttl))
        self._grants[self._key(token)] = grant
        return token, grant

    def peek(self, token: str) -> Grant:
        """Return the token's grant without using it up; raise if it is not valid."""
        grant = self._grants.get(self._key(token))
        if grant is None or grant.expires <= self.clock.now():
            raise BadConnectTokenError("connect token unknown, expired or already used")
        return grant

    def redeem(self, token: str) -> Grant:
        """Use the token up and return its grant."""
        grant = self.peek(token)
        del self._grants[self._key(token)]
        return grant

    def revoke_project(self, project: str) -> None:
        """Forget every token of ``project``."""
        for key in [k for k, g in self._grants.items() if g.project == project]:
            del self._grants[key]

    def _purge(self) -> None:
        now = self.clock.now()
        for key in [k for k, g in self._grants.items() if g.expires <= now]:
            del self._grants[key]
