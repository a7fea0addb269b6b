"""The spill file and value conversion: pure Python, no database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from custom_components.makerhub.core.schema import VarType
from custom_components.makerhub.core.telemetry.samples import (
    MAX_TEXT_LENGTH,
    SampleIssue,
    WrongTypePolicy,
    convert,
    from_micros,
    to_micros,
)
from custom_components.makerhub.core.telemetry.spill import SpillFile, decode_row, encode_row

T0 = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
T0_US = to_micros(T0)


def rows(count: int, start: int = 0) -> list[tuple[int, str, str, float | None, str | None]]:
    """Return distinct rows, some numeric and some text."""
    return [
        (
            T0_US + i * 1000,
            f"unit{i % 3}",
            "temp",
            None if i % 5 == 0 else i * 0.5,
            f"text {i} ünï" if i % 5 == 0 else None,
        )
        for i in range(start, start + count)
    ]


def test_row_round_trip_keeps_microseconds_and_text() -> None:
    """A row read back equals the row written, to the microsecond."""
    for row in rows(10):
        assert decode_row(encode_row(row)) == row
    assert from_micros(T0_US) == T0
    assert to_micros(T0.replace(tzinfo=None)) == T0_US  # naive is taken as UTC
    assert to_micros(datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)) == -1


def test_damaged_lines_are_detected() -> None:
    """A flipped byte, a cut line or garbage fails the checksum."""
    line = encode_row(rows(1, 1)[0])
    flipped = bytearray(line)
    flipped[20] ^= 0x01
    assert decode_row(bytes(flipped)) is None
    assert decode_row(line[:-5] + b"\n") is None
    assert decode_row(line[:-1]) is None
    assert decode_row(b"garbage\n") is None


def test_append_read_commit_and_reopen(tmp_path: Path) -> None:
    """Rows come back in order across reads, commits and a reopen; drained files vanish."""
    spill = SpillFile(tmp_path / "spill", limit_bytes=1 << 20)
    assert spill.open().records == 0
    assert spill.append(rows(10)) == 10
    assert spill.append(rows(5, 10)) == 5
    first = spill.read(4)
    assert first.rows == rows(4)
    spill.commit(first)
    assert spill.pending == 11
    second = spill.read(3)  # read but not committed: a crash now must replay it
    assert second.rows == rows(3, 4)

    again = SpillFile(tmp_path / "spill", limit_bytes=1 << 20)
    recovery = again.open()
    assert (recovery.records, recovery.torn_bytes) == (11, 0)
    chunk = again.read(100)
    assert chunk.rows == rows(11, 4)
    again.commit(chunk)
    assert again.pending == 0
    assert not (tmp_path / "spill").exists()
    assert not (tmp_path / "spill.offset").exists()


def test_torn_tail_is_cut_and_damaged_line_skipped(tmp_path: Path) -> None:
    """A crash mid-append leaves a torn line: cut at open; a damaged line is skipped."""
    path = tmp_path / "spill"
    spill = SpillFile(path, limit_bytes=1 << 20)
    spill.open()
    spill.append(rows(3))
    data = bytearray(path.read_bytes())
    second_line_at = data.index(b"\n") + 1
    data[second_line_at + 15] ^= 0x01  # damage the second record
    path.write_bytes(bytes(data) + encode_row(rows(1, 3)[0])[:17])  # torn fourth
    reopened = SpillFile(path, limit_bytes=1 << 20)
    recovery = reopened.open()
    assert recovery.records == 3
    assert recovery.torn_bytes == 17
    chunk = reopened.read(10)
    assert chunk.rows == [rows(3)[0], rows(3)[2]]
    assert chunk.damaged == 1
    spill_after = reopened.append(rows(1, 10))  # appends continue on a clean line
    assert spill_after == 1
    assert reopened.read(10).rows == rows(1, 10)


def test_limit_stops_appending(tmp_path: Path) -> None:
    """Past ``limit_bytes`` nothing more is appended, and the caller is told how much was."""
    one = len(encode_row(rows(1)[0]))
    spill = SpillFile(tmp_path / "spill", limit_bytes=one * 3 + 10, fsync=False)
    spill.open()
    assert spill.append(rows(1)) == 1
    assert spill.append(rows(1, 1)) == 1
    assert spill.append(rows(1, 2)) == 1
    assert spill.append(rows(5, 3)) == 0


@pytest.mark.parametrize(
    ("value", "var_type", "policy", "expected"),
    [
        (21.5, VarType.FLOAT, WrongTypePolicy.REJECT, (21.5, None, None)),
        (3, VarType.INT, WrongTypePolicy.REJECT, (3.0, None, None)),
        ("21.5", VarType.FLOAT, WrongTypePolicy.REJECT, (21.5, None, None)),
        (True, VarType.BOOL, WrongTypePolicy.REJECT, (1.0, None, None)),
        ("off", VarType.BOOL, WrongTypePolicy.REJECT, (0.0, None, None)),
        ("idle", VarType.ENUM, WrongTypePolicy.REJECT, (None, "idle", None)),
        (7, VarType.STR, WrongTypePolicy.REJECT, (None, "7", None)),
        (
            "abc",
            VarType.FLOAT,
            WrongTypePolicy.STORE_AS_TEXT,
            (None, "abc", SampleIssue.STORED_AS_TEXT),
        ),
        ("abc", VarType.FLOAT, WrongTypePolicy.REJECT, (None, None, SampleIssue.WRONG_TYPE)),
        (
            True,
            VarType.FLOAT,
            WrongTypePolicy.STORE_AS_TEXT,
            (None, "true", SampleIssue.STORED_AS_TEXT),
        ),
        (
            float("nan"),
            VarType.FLOAT,
            WrongTypePolicy.STORE_AS_TEXT,
            (None, "nan", SampleIssue.STORED_AS_TEXT),
        ),
        ("maybe", VarType.BOOL, WrongTypePolicy.REJECT, (None, None, SampleIssue.WRONG_TYPE)),
        (2, VarType.BOOL, WrongTypePolicy.STORE_AS_TEXT, (None, "2", SampleIssue.STORED_AS_TEXT)),
        (None, VarType.FLOAT, WrongTypePolicy.STORE_AS_TEXT, (None, None, SampleIssue.NO_VALUE)),
        (
            "a\x00b",
            VarType.STR,
            WrongTypePolicy.STORE_AS_TEXT,
            (None, None, SampleIssue.INVALID_TEXT),
        ),
        (
            "x" * (MAX_TEXT_LENGTH + 1),
            None,
            WrongTypePolicy.STORE_AS_TEXT,
            (None, None, SampleIssue.TOO_LONG),
        ),
        (4, None, WrongTypePolicy.REJECT, (4.0, None, None)),
        (False, None, WrongTypePolicy.REJECT, (0.0, None, None)),
        ("21.5", None, WrongTypePolicy.REJECT, (None, "21.5", None)),
        (float("inf"), None, WrongTypePolicy.REJECT, (None, "inf", None)),
    ],
)
def test_convert(
    value: object,
    var_type: VarType | None,
    policy: WrongTypePolicy,
    expected: tuple[float | None, str | None, SampleIssue | None],
) -> None:
    """Values land in the right column, or are kept as text, or are refused."""
    assert convert(value, var_type, policy) == expected
