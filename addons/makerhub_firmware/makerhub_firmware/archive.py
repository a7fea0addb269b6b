"""Deterministic unit archives (``tar.gz`` and ``zip``), streamed to disk.

A unit archive is split into a **body** — the repository's files at one commit, the same
for every unit — and a **tail** — the unit's ``env.json`` and ``schema.json`` plus the
archive's closing records. The body is built once per (repository, commit, format, ignore
rules, release asset) and written to disk as it is compressed, so memory stays bounded by
one read buffer whatever the repository's size. A unit's archive is the body's bytes
followed by its tail's:

* ``tar.gz``: the body is one gzip member holding the files' tar entries; the tail is a
  second gzip member with ``env.json``, ``schema.json`` and the two zero blocks that end a
  tar stream. Concatenated gzip members are one valid gzip file (RFC 1952, section 2.2),
  which ``tar``, ``gunzip`` and Python's ``tarfile`` read as a single stream.
* ``zip``: the body holds the files' local entries; the tail adds the two local entries,
  then the central directory (the body's records plus the two new ones) and its end record.

Determinism: entries sorted by path (bytewise), one fixed mtime (the commit's time), mode
0644, 0755 for executables and 0777 for symlinks, uid/gid 0 with no owner names, gzip
headers with no file name and mtime 0, zip entries with a fixed DOS time and no extra
fields. The same inputs give the same bytes (for a given zlib build).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
import io
from pathlib import Path
import struct
import tarfile
from typing import BinaryIO, Final, Protocol
import zlib

from .errors import TooLargeError
from .tree import MODE_EXECUTABLE, MODE_SYMLINK

CHUNK: Final = 256 * 1024
COMPRESS_LEVEL: Final = 6
TAR_BLOCK: Final = 512
GZIP_HEADER: Final = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
"""Magic, deflate, no flags (no name, no comment), mtime 0, no extra flags, OS unknown."""
ZIP_MAX_ENTRIES: Final = 0xFFFF
ZIP_MAX_OFFSET: Final = 0xFFFFFFFF
DOS_EPOCH: Final = 315532800
"""1980-01-01T00:00:00Z: the earliest time a zip entry can carry."""


class ArchiveFormat(StrEnum):
    """The archive formats units can ask for."""

    TAR_GZ = "tar.gz"
    ZIP = "zip"

    @property
    def media_type(self) -> str:
        """Return the HTTP content type."""
        return "application/gzip" if self is ArchiveFormat.TAR_GZ else "application/zip"


@dataclass(frozen=True, slots=True)
class ArchiveFile:
    """One file as it goes into an archive: its path, mode, size and content source."""

    path: str
    mode: int
    size: int
    chunks: Callable[[], Iterable[bytes]]
    is_link: bool = False
    """A symlink: ``chunks`` yields its target."""


def file_mode(git_mode: int) -> int:
    """Return the normalized permission bits for a git tree mode."""
    if git_mode == MODE_SYMLINK:
        return 0o777
    return 0o755 if git_mode == MODE_EXECUTABLE else 0o644


@dataclass(frozen=True, slots=True)
class BodyInfo:
    """What a tail needs to know about its body."""

    format: ArchiveFormat
    size: int
    entries: int
    mtime: int
    central_directory: bytes = b""
    """zip only: the body's central directory records."""


class _GzipMember:
    """Writes one gzip member (RFC 1952) with a fixed header to a binary stream."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS, 9)
        self._crc = 0
        self._size = 0
        out.write(GZIP_HEADER)

    def write(self, data: bytes) -> None:
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)
        self._out.write(self._compressor.compress(data))

    def close(self) -> None:
        self._out.write(self._compressor.flush())
        self._out.write(struct.pack("<II", self._crc, self._size & 0xFFFFFFFF))


def _tar_header(path: str, mode: int, size: int, mtime: int, link: str | None) -> bytes:
    info = tarfile.TarInfo(path)
    info.mtime = mtime
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if link is not None:
        info.type = tarfile.SYMTYPE
        info.linkname = link
        info.mode = 0o777
        info.size = 0
    else:
        info.mode = mode
        info.size = size
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "strict")


def _tar_entries(files: Iterable[ArchiveFile], mtime: int, emit: Callable[[bytes], None]) -> int:
    count = 0
    for file in files:
        count += 1
        if file.is_link:
            target = b"".join(file.chunks()).decode("utf-8")
            emit(_tar_header(file.path, 0o777, 0, mtime, target))
            continue
        emit(_tar_header(file.path, file.mode, file.size, mtime, None))
        written = 0
        for chunk in file.chunks():
            written += len(chunk)
            emit(chunk)
        if written != file.size:
            raise ValueError(f"{file.path}: read {written} bytes, expected {file.size}")
        if padding := -file.size % TAR_BLOCK:
            emit(b"\0" * padding)
    return count


def _dos_time(mtime: int) -> tuple[int, int]:
    moment = datetime.fromtimestamp(max(mtime, DOS_EPOCH), UTC)
    time = (moment.hour << 11) | (moment.minute << 5) | (moment.second // 2)
    date = ((moment.year - 1980) << 9) | (moment.month << 5) | moment.day
    return time, date


class _Seekable(Protocol):
    def write(self, data: bytes, /) -> int: ...
    def seek(self, position: int, whence: int = 0, /) -> int: ...


class _ZipWriter:
    """Writes zip local entries to a seekable stream and collects central records."""

    def __init__(self, out: _Seekable, mtime: int, offset: int = 0) -> None:
        self._out = out
        self._time, self._date = _dos_time(mtime)
        self.offset = offset
        self.central = io.BytesIO()
        self.entries = 0

    def add(self, file: ArchiveFile) -> None:
        name = file.path.encode("utf-8")
        is_link = file.is_link
        method = 0 if is_link else 8
        header_at = self.offset
        if header_at > ZIP_MAX_OFFSET or self.entries >= ZIP_MAX_ENTRIES:
            raise TooLargeError("zip: over 4 GiB or 65,535 files; ask for tar.gz instead")
        local = struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            20,
            0x0800,
            method,
            self._time,
            self._date,
            0,
            0,
            0,
            len(name),
            0,
        )
        self._out.write(local + name)
        crc = 0
        size = 0
        compressed = 0
        compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS, 9)
        for chunk in file.chunks():
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            data = chunk if is_link else compressor.compress(chunk)
            compressed += len(data)
            self._out.write(data)
        if not is_link:
            tail = compressor.flush()
            compressed += len(tail)
            self._out.write(tail)
        if size != file.size and not is_link:
            raise ValueError(f"{file.path}: read {size} bytes, expected {file.size}")
        end = header_at + len(local) + len(name) + compressed
        self._out.seek(header_at + 14)
        self._out.write(struct.pack("<III", crc, compressed, size))
        self._out.seek(end)
        self.offset = end
        unix_mode = (0o120000 if is_link else 0o100000) | file.mode
        self.central.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                (3 << 8) | 20,
                20,
                0x0800,
                method,
                self._time,
                self._date,
                crc,
                compressed,
                size,
                len(name),
                0,
                0,
                0,
                0,
                unix_mode << 16,
                header_at,
            )
            + name
        )
        self.entries += 1


def write_body(
    fmt: ArchiveFormat, files: Iterable[ArchiveFile], out: BinaryIO, mtime: int
) -> BodyInfo:
    """Write a body to ``out`` (a seekable file opened for writing) and describe it."""
    if fmt is ArchiveFormat.TAR_GZ:
        member = _GzipMember(out)
        count = _tar_entries(files, mtime, member.write)
        member.close()
        return BodyInfo(fmt, out.tell(), count, mtime)
    writer = _ZipWriter(out, mtime)
    for file in files:
        writer.add(file)
    return BodyInfo(fmt, writer.offset, writer.entries, mtime, writer.central.getvalue())


def constant(data: bytes) -> Callable[[], Iterable[bytes]]:
    """Return a content source that yields ``data``."""
    return lambda: (data,)


def memory_file(path: str, data: bytes) -> ArchiveFile:
    """Return an in-memory file (a unit's env.json or schema.json)."""
    return ArchiveFile(path, 0o644, len(data), constant(data))


def build_tail(body: BodyInfo, files: Iterable[ArchiveFile]) -> bytes:
    """Return the bytes that follow ``body`` to make one unit's complete archive."""
    out = io.BytesIO()
    if body.format is ArchiveFormat.TAR_GZ:
        member = _GzipMember(out)
        _tar_entries(files, body.mtime, member.write)
        member.write(b"\0" * (2 * TAR_BLOCK))
        member.close()
        return out.getvalue()
    writer = _ZipWriter(_OffsetStream(out, body.size), body.mtime, offset=body.size)
    writer.entries = body.entries
    for file in files:
        writer.add(file)
    central = body.central_directory + writer.central.getvalue()
    out.write(central)
    out.write(
        struct.pack(
            "<IHHHHIIH",
            0x06054B50,
            0,
            0,
            writer.entries,
            writer.entries,
            len(central),
            writer.offset,
            0,
        )
    )
    return out.getvalue()


class _OffsetStream:
    """A BytesIO seen at an offset: positions include the body that precedes it."""

    def __init__(self, inner: io.BytesIO, offset: int) -> None:
        self._inner = inner
        self._offset = offset

    def write(self, data: bytes, /) -> int:
        return self._inner.write(data)

    def seek(self, position: int, whence: int = 0, /) -> int:
        return self._inner.seek(position - self._offset, whence) + self._offset


def read_chunks(path: Path, start: int = 0) -> Iterator[bytes]:
    """Yield a file's bytes from ``start`` in bounded chunks."""
    with path.open("rb") as file:
        file.seek(start)
        while chunk := file.read(CHUNK):
            yield chunk
