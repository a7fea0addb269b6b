"""The spill file: rows the database could not take yet, on local disk, in order.

Format: one record per line, ``<crc32 of the JSON, 8 hex digits> <JSON>\\n``, the JSON
being ``[time in µs since the Unix epoch, unit, variable, value, text_value]``. A line
whose checksum does not match (a torn write after a crash, a damaged disk) is skipped and
counted; the rest of the file is still replayed.

The file is append-only. How far it has been written to the database is kept in a
sidecar ``<name>.offset`` (replaced atomically after each written batch); once everything
is written both files are removed. A crash between a batch's commit and the offset update
replays that batch once more: delivery is at least once, never less.

Durability: :meth:`SpillFile.append` calls ``fsync`` before returning (unless ``fsync``
is False), so a row handed to the spill survives a power cut. All methods block: the
writer runs them in its own single I/O thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import json
import os
from pathlib import Path
import zlib

from .samples import Row


def encode_row(row: Row) -> bytes:
    """Return one spill line for ``row``."""
    body = json.dumps(row, separators=(",", ":")).encode()
    return b"%08x %s\n" % (zlib.crc32(body), body)


def decode_row(line: bytes) -> Row | None:
    """Return the row of a spill line, or None when the line is damaged."""
    if len(line) < 11 or line[8:9] != b" " or not line.endswith(b"\n"):
        return None
    body = line[9:-1]
    try:
        if int(line[:8], 16) != zlib.crc32(body):
            return None
        micros, unit, variable, value, text = json.loads(body)
    except (ValueError, TypeError):
        return None
    if type(micros) is not int:
        return None
    return (micros, unit, variable, value, text)


@dataclass(frozen=True, slots=True)
class Recovery:
    """What :meth:`SpillFile.open` found left over from an earlier run."""

    records: int
    """Rows waiting to be replayed."""
    torn_bytes: int
    """Bytes of an incomplete last line (a crash mid-write), cut off."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """Rows read from the spill, and the offset to commit once they are written."""

    rows: list[Row]
    end: int
    damaged: int
    """Lines skipped because their checksum did not match."""


class SpillFile:
    """An append-only file of rows with a committed read offset."""

    def __init__(self, path: Path, *, limit_bytes: int, fsync: bool = True) -> None:
        """Use ``path`` (and ``path.offset``); nothing is read before :meth:`open`."""
        self.path = path
        self.offset_path = path.with_name(path.name + ".offset")
        self.limit_bytes = limit_bytes
        self.fsync = fsync
        self.size = 0
        self.committed = 0
        """Offset of the first row not yet written to the database."""
        self.cursor = 0
        """Offset of the first row not yet read."""
        self.pending = 0
        """Rows after ``committed``: waiting for the database, or being written."""
        self.unread = 0
        """Rows after ``cursor``."""

    def open(self) -> Recovery:
        """Recover the state a previous run left; cut a torn last line."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            self._forget()
            return Recovery(0, 0)
        self.size = self.path.stat().st_size
        self.committed = self._read_offset()
        records = 0
        good_end = self.committed
        with self.path.open("rb") as file:
            file.seek(self.committed)
            for line in file:
                if not line.endswith(b"\n"):
                    break
                good_end += len(line)
                records += 1
        torn = self.size - good_end
        if torn:
            os.truncate(self.path, good_end)
            self.size = good_end
        self.cursor = self.committed
        self.pending = self.unread = records
        if records == 0:
            self._remove()
        return Recovery(records, torn)

    def _read_offset(self) -> int:
        try:
            offset = int(self.offset_path.read_text().strip() or 0)
        except (OSError, ValueError):
            return 0
        return offset if 0 <= offset <= self.size else 0

    def append(self, rows: Sequence[Row]) -> int:
        """Append rows in order up to the size limit; return how many were appended."""
        lines: list[bytes] = []
        room = self.limit_bytes - self.size
        for row in rows:
            line = encode_row(row)
            if len(line) > room:
                break
            room -= len(line)
            lines.append(line)
        if not lines:
            return 0
        data = b"".join(lines)
        with self.path.open("ab") as file:
            file.write(data)
            file.flush()
            if self.fsync:
                os.fsync(file.fileno())
        self.size += len(data)
        self.pending += len(lines)
        self.unread += len(lines)
        return len(lines)

    def read(self, max_rows: int) -> Chunk:
        """Read up to ``max_rows`` rows from the cursor on, skipping damaged lines."""
        rows: list[Row] = []
        damaged = 0
        offset = self.cursor
        with self.path.open("rb") as file:
            file.seek(offset)
            while len(rows) < max_rows and offset < self.size:
                line = file.readline()
                if not line:
                    break
                offset += len(line)
                row = decode_row(line)
                if row is None:
                    damaged += 1
                else:
                    rows.append(row)
        self.cursor = offset
        self.unread -= len(rows) + damaged
        return Chunk(rows, offset, damaged)

    def commit(self, chunk: Chunk) -> None:
        """Record that ``chunk`` is in the database (or dropped for good)."""
        self.committed = chunk.end
        self.pending -= len(chunk.rows) + chunk.damaged
        if self.committed >= self.size:
            self._remove()
            return
        temporary = self.offset_path.with_name(self.offset_path.name + ".tmp")
        temporary.write_text(str(self.committed))
        temporary.replace(self.offset_path)

    def _forget(self) -> None:
        self.size = self.committed = self.cursor = self.pending = self.unread = 0

    def _remove(self) -> None:
        self.path.unlink(missing_ok=True)
        self.offset_path.unlink(missing_ok=True)
        self._forget()
