"""Errors raised by the core when input from units or repositories is not acceptable."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class BadInputReason(StrEnum):
    """Why a message from a unit was dropped; the keys of the bad-input counters."""

    MALFORMED = "malformed"
    """Not UTF-8, not JSON, or not the JSON shape the topic needs."""
    WRONG_TYPE = "wrong_type"
    """A value that does not parse as the variable's type."""
    OUT_OF_RANGE = "out_of_range"
    """A value outside min/max, too long, or not one of the enum options."""
    UNKNOWN_VARIABLE = "unknown_variable"
    """A well-formed name the unit's schema does not declare."""
    UNKNOWN_UNIT = "unknown_unit"
    """A unit id the hub has not adopted."""
    OVERSIZED = "oversized"
    """A payload over the protocol's size limit."""
    INVALID_NAME = "invalid_name"
    """A variable or announce id that is not a valid name."""
    BAD_TOPIC = "bad_topic"
    """A topic outside the unit namespace layout."""


class BadInputError(ValueError):
    """A message from a unit that the hub refuses; ``reason`` is the counter key."""

    def __init__(self, reason: BadInputReason, message: str) -> None:
        """Store the reason category next to the human message."""
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SchemaIssue:
    """One problem in a schema document: where it is and what is wrong."""

    path: str
    reason: str

    def __str__(self) -> str:
        """Render as ``path: reason``."""
        return f"{self.path}: {self.reason}" if self.path else self.reason


class SchemaError(ValueError):
    """A schema document with one or more problems, each located precisely."""

    def __init__(self, issues: list[SchemaIssue], source: str = "") -> None:
        """Keep every issue; the message lists them all."""
        self.issues = issues
        self.source = source
        prefix = f"{source}: " if source else ""
        super().__init__(prefix + "; ".join(str(issue) for issue in issues))
