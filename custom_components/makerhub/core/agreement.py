"""The space's agreement: its text, its version, and who accepted which version when.

Pure Python (no Home Assistant imports). A member (a person) signs the text in force; the
version is a hash of the text with case, spacing and punctuation set aside, so mending a
typo's spacing asks nobody to sign again while any change of words does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
import hashlib
import re
from typing import Any, Final

DEFAULT_AGREEMENT: Final = (
    "Welcome to the space. By signing you agree that:\n"
    "1. Every project made with the space's resources (its machines, tools, materials, "
    "desktops or services) is open source: its designs, code and documentation are "
    "published under the space's open-source licence.\n"
    "2. You keep the intellectual property you bring: what you made before, or without "
    "the space's resources, stays yours.\n"
    "3. You use the machines as you were shown, and leave your station tidy."
)
"""The agreement until the space writes its own (the projects options)."""

MAX_AGREEMENT: Final = 20_000
"""The longest agreement text, in characters."""
VERSION_LENGTH: Final = 12
_WORDS: Final = re.compile(r"\w+")


def agreement_version(text: str) -> str:
    """Return the version of an agreement text: a hash of its words, case-folded."""
    words = " ".join(_WORDS.findall(text.casefold()))
    return hashlib.sha256(words.encode()).hexdigest()[:VERSION_LENGTH]


class AgreementStoreError(ValueError):
    """A stored acceptance that is not one (the message says why)."""


@dataclass(frozen=True, slots=True)
class Acceptance:
    """A person's signature: which version, when, and who recorded it."""

    person: str
    version: str
    signed_at: datetime
    recorded_by: str | None = None
    """The user id of the admin who recorded it for the person (None: the person did)."""

    def to_json(self) -> dict[str, Any]:
        """Return the stored form."""
        return {
            "version": self.version,
            "signed_at": self.signed_at.isoformat(),
            "recorded_by": self.recorded_by,
        }

    @classmethod
    def from_json(cls, person: str, data: object) -> Acceptance:
        """Return a stored acceptance; raise AgreementStoreError for a malformed one."""
        if not isinstance(data, Mapping):
            raise AgreementStoreError(f"{person}: not an object")
        version, signed_at, by = data.get("version"), data.get("signed_at"), data.get("recorded_by")
        if not isinstance(version, str) or not version:
            raise AgreementStoreError(f"{person}: no version")
        if by is not None and not isinstance(by, str):
            raise AgreementStoreError(f"{person}: recorded_by is not a user id")
        try:
            when = datetime.fromisoformat(str(signed_at))
        except ValueError:
            raise AgreementStoreError(f"{person}: signed_at is not a time") from None
        if when.tzinfo is None:
            raise AgreementStoreError(f"{person}: signed_at has no time zone")
        return cls(person, version, when, by)


@dataclass(frozen=True, slots=True)
class AgreementStatus:
    """Where a person stands with the text in force."""

    person: str
    version: str
    """The version in force."""
    signed: bool
    """Whether the person signed the version in force."""
    signed_at: datetime | None
    """When they last signed (any version)."""
    signed_version: str | None

    @property
    def needs_signing(self) -> bool:
        """Whether the person must sign (never signed, or signed an older text)."""
        return not self.signed

    def to_json(self) -> dict[str, Any]:
        """Return the API form."""
        return {
            "person": self.person,
            "version": self.version,
            "signed": self.signed,
            "needs_signing": self.needs_signing,
            "resign": self.signed_version is not None and not self.signed,
            "signed_at": None if self.signed_at is None else self.signed_at.isoformat(),
            "signed_version": self.signed_version,
        }


class Agreements:
    """Every person's latest acceptance."""

    def __init__(self, acceptances: Mapping[str, Acceptance] | None = None) -> None:
        """Start with stored acceptances."""
        self._acceptances = dict(acceptances or {})

    def sign(
        self, person: str, text: str, at: datetime, recorded_by: str | None = None
    ) -> Acceptance:
        """Record that ``person`` accepted ``text`` at ``at`` (an aware time)."""
        if at.tzinfo is None:
            raise ValueError("the time of a signature needs its time zone")
        acceptance = Acceptance(person, agreement_version(text), at, recorded_by)
        self._acceptances[person] = acceptance
        return acceptance

    def acceptance(self, person: str) -> Acceptance | None:
        """Return a person's latest acceptance, if any."""
        return self._acceptances.get(person)

    def status(self, person: str, text: str) -> AgreementStatus:
        """Return where ``person`` stands with ``text``."""
        version = agreement_version(text)
        accepted = self._acceptances.get(person)
        return AgreementStatus(
            person=person,
            version=version,
            signed=accepted is not None and accepted.version == version,
            signed_at=None if accepted is None else accepted.signed_at,
            signed_version=None if accepted is None else accepted.version,
        )

    def to_json(self) -> dict[str, Any]:
        """Return the stored form."""
        return {"people": {p: a.to_json() for p, a in sorted(self._acceptances.items())}}

    @classmethod
    def from_json(cls, data: object) -> tuple[Agreements, list[str]]:
        """Return the stored acceptances and the problems of those dropped."""
        people = data.get("people", {}) if isinstance(data, Mapping) else None
        if not isinstance(people, Mapping):
            return cls(), ["the stored agreements are not an object of people"]
        acceptances: dict[str, Acceptance] = {}
        problems: list[str] = []
        for person, raw in people.items():
            try:
                acceptances[str(person)] = Acceptance.from_json(str(person), raw)
            except AgreementStoreError as err:
                problems.append(str(err))
        return cls(acceptances), problems
