"""A self-describing unit's announcement: who it is and what it declares.

The announce topics are the only ones a unit builds itself: before adoption it has no
``schema.json`` to read topics from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
import json
import re
from typing import Any, Final

ANNOUNCE_ID_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
PREFIX_RE: Final = re.compile(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*")


@dataclass(frozen=True, slots=True)
class Announcement:
    """What a self-describing unit tells the hub on ``P/announce/<id>``."""

    announce_id: str
    prefix: str
    name: str
    model: str | None
    schema: Mapping[str, Any] = field(repr=False)
    """The unit's ``makerhub.json`` content."""

    def __post_init__(self) -> None:
        """Refuse ids and prefixes that cannot be topic levels."""
        if ANNOUNCE_ID_RE.fullmatch(self.announce_id) is None:
            raise ValueError(f"announce id {self.announce_id!r} must match [A-Za-z0-9_-]{{1,64}}")
        if PREFIX_RE.fullmatch(self.prefix) is None:
            raise ValueError(f"prefix {self.prefix!r} must be topic levels without wildcards")
        if not self.name.strip() or len(self.name) > 64:
            raise ValueError("the unit name must be 1 to 64 characters")

    @property
    def topic(self) -> str:
        """Return ``P/announce/<id>``, where the announcement is retained."""
        return f"{self.prefix}/announce/{self.announce_id}"

    @property
    def adopted_topic(self) -> str:
        """Return ``P/announce/<id>/adopted``, where the hub hands over ``schema.json``."""
        return f"{self.topic}/adopted"

    def payload(self, uid: str | None) -> str:
        """Return the announcement, with ``unit`` once the unit has been adopted."""
        data: dict[str, Any] = {"name": self.name, "schema": self.schema}
        if self.model is not None:
            data["model"] = self.model
        if uid is not None:
            data["unit"] = uid
        return json.dumps(data, separators=(",", ":"))
