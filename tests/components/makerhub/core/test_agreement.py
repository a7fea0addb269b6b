"""The agreement's versions and acceptances (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from custom_components.makerhub.core.agreement import (
    DEFAULT_AGREEMENT,
    Agreements,
    agreement_version,
)

SIGNED = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def test_version_follows_words_not_spacing_case_or_punctuation() -> None:
    """Mending spacing, case or punctuation keeps the version; a changed word does not."""
    text = "All projects are open source.\nYou keep your IP."
    assert agreement_version(text) == agreement_version(
        "all  projects are OPEN source\n\nyou keep your IP"
    )
    assert agreement_version(text) == agreement_version(
        "All projects are open-source; you keep your IP!"
    )
    assert agreement_version(text) != agreement_version(
        "All projects are closed source. You keep your IP."
    )
    assert agreement_version(text) != agreement_version(text + " Clean up after yourself.")
    assert len(agreement_version(DEFAULT_AGREEMENT)) == 12


def test_default_text_says_open_source_and_own_ip() -> None:
    """The default agreement says what the space asks for."""
    assert "open source" in DEFAULT_AGREEMENT
    assert "intellectual property you bring" in DEFAULT_AGREEMENT


def test_sign_and_resign_after_a_material_change() -> None:
    """A signature holds for its text; a changed text asks again; signing again holds."""
    agreements = Agreements()
    status = agreements.status("person.alice", "Old text")
    assert (status.signed, status.needs_signing, status.signed_at) == (False, True, None)
    assert status.to_json()["resign"] is False

    agreements.sign("person.alice", "Old text", SIGNED, recorded_by="admin-id")
    status = agreements.status("person.alice", "Old text")
    assert status.signed
    assert not status.needs_signing
    assert status.signed_at == SIGNED
    assert agreements.acceptance("person.alice").recorded_by == "admin-id"  # type: ignore[union-attr]

    changed = agreements.status("person.alice", "New text")
    assert not changed.signed
    assert changed.to_json() == {
        "person": "person.alice",
        "version": agreement_version("New text"),
        "signed": False,
        "needs_signing": True,
        "resign": True,
        "signed_at": SIGNED.isoformat(),
        "signed_version": agreement_version("Old text"),
    }
    assert agreements.status("person.bob", "Old text").signed is False


def test_a_signature_needs_an_aware_time() -> None:
    """A naive time would be ambiguous once stored."""
    with pytest.raises(ValueError, match="time zone"):
        Agreements().sign("person.alice", "Text", datetime(2026, 12, 7, 10, 0))  # noqa: DTZ001 (naive on purpose)


def test_round_trip_and_malformed_entries_dropped() -> None:
    """What is stored comes back; each malformed acceptance is dropped with its reason."""
    agreements = Agreements()
    agreements.sign("person.alice", "Text", SIGNED)
    restored, problems = Agreements.from_json(agreements.to_json())
    assert problems == []
    assert restored.status("person.alice", "Text").signed

    stored = {
        "people": {
            "person.alice": agreements.to_json()["people"]["person.alice"],
            "person.bob": "yes",
            "person.carol": {"signed_at": SIGNED.isoformat()},
            "person.dan": {"version": "abc", "signed_at": "yesterday"},
            "person.eve": {"version": "abc", "signed_at": "2026-12-07T10:00:00"},
            "person.fay": {"version": "abc", "signed_at": SIGNED.isoformat(), "recorded_by": 5},
        }
    }
    restored, problems = Agreements.from_json(stored)
    assert restored.status("person.alice", "Text").signed
    assert problems == [
        "person.bob: not an object",
        "person.carol: no version",
        "person.dan: signed_at is not a time",
        "person.eve: signed_at has no time zone",
        "person.fay: recorded_by is not a user id",
    ]
    for bad in (None, [], {"people": []}):
        restored, problems = Agreements.from_json(bad)
        assert problems == ["the stored agreements are not an object of people"]
        assert restored.to_json() == {"people": {}}
