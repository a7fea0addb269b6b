"""Commands the hub sends on ``sys/cmd``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
import json
import re
from typing import Any, Final

KNOWN_COMMANDS: Final = frozenset({"restart", "update", "env_update", "schema_update", "log_sync"})
SHA256_RE: Final = re.compile(r"[0-9a-f]{64}")


class CommandError(ValueError):
    """A ``sys/cmd`` payload that is not a command the unit can act on."""


@dataclass(frozen=True, slots=True)
class UpdateRequest:
    """The fields of an ``update`` command: which firmware to fetch and how to check it."""

    version: str
    url: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class Command:
    """One parsed command; ``update`` is set for the ``update`` command only."""

    cmd: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    update: UpdateRequest | None = None


def parse_command(payload: bytes) -> Command | None:
    """Parse a ``sys/cmd`` payload; None for a command this unit does not know.

    Unknown commands are ignored, as the protocol asks; malformed ones raise
    :class:`CommandError`.
    """
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as err:
        raise CommandError(f"sys/cmd: not valid JSON ({err})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cmd"), str):
        raise CommandError('sys/cmd: must be an object with a "cmd" string')
    cmd = data.pop("cmd")
    if cmd not in KNOWN_COMMANDS:
        return None
    update = _parse_update(data) if cmd == "update" else None
    return Command(cmd=cmd, fields=data, update=update)


def _parse_update(data: Mapping[str, Any]) -> UpdateRequest:
    version, url, sha256, size = (data.get(k) for k in ("version", "url", "sha256", "size"))
    if not isinstance(version, str) or not version:
        raise CommandError("update: version must be a non-empty string")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise CommandError("update: url must be an http(s) URL")
    if not isinstance(sha256, str) or SHA256_RE.fullmatch(sha256) is None:
        raise CommandError("update: sha256 must be 64 lowercase hex characters")
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise CommandError("update: size must be a positive integer")
    return UpdateRequest(version=version, url=url, sha256=sha256, size=size)
