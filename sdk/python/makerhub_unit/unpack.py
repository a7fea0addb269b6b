"""Checking and unpacking a firmware archive (``tar.gz`` or ``zip``) without trusting it.

A unit archive is the firmware repository's files at one commit plus the unit's
``env.json`` and ``schema.json``, all at the archive's root (see docs/protocol.md,
*Updates on the unit*). Before a single byte is unpacked the archive's size and sha256
must match what the hub announced; while unpacking every entry is checked:

* paths: no absolute path, no ``..`` component, no backslash or NUL, no path through an
  entry that is a file or a symlink, no duplicate;
* types: regular files, directories and symlinks only (a hard link becomes a copy of an
  earlier file of the archive); devices, FIFOs and sockets are refused;
* symlinks: relative, and still inside the unpacked tree once every symlink exists
  (checked on the file system, so chains of links cannot climb out);
* limits: entry count, size of one file and of everything together (declared sizes are
  checked before reading, actual bytes while writing).

Files are created with ``0644`` (``0755`` when the archive marks them executable),
directories with ``0755``; owners, times and other mode bits of the archive are ignored.
Any refusal removes the half-unpacked directory and raises :class:`UpdateError` with a
message that names the entry and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
import gzip
import hashlib
import hmac
import os
from pathlib import Path
import posixpath
import re
import shutil
import stat
import tarfile
from typing import IO, Final, cast
import zipfile
import zlib

CHUNK: Final = 256 * 1024
MAX_PATH_BYTES: Final = 4096
MAX_LINK_TARGET: Final = 4096
_DRIVE_RE: Final = re.compile(r"[A-Za-z]:")


class UpdateError(Exception):
    """An update that cannot be applied; the message says precisely why."""


@dataclass(frozen=True, slots=True)
class UnpackLimits:
    """What an archive may hold at most."""

    max_entries: int = 20_000
    max_file_size: int = 512 * 1024 * 1024
    max_total_size: int = 1024 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class UnpackResult:
    """What was unpacked."""

    format: str
    files: int
    directories: int
    symlinks: int
    total_size: int


def sha256_of(path: Path) -> str:
    """Return a file's sha256 as lowercase hex."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_archive(path: Path, expected_sha256: str, expected_size: int) -> None:
    """Raise :class:`UpdateError` unless the file has exactly this size and sha256."""
    size = path.stat().st_size
    if size != expected_size:
        raise UpdateError(f"size mismatch: expected {expected_size} bytes, got {size}")
    actual = sha256_of(path)
    if not hmac.compare_digest(actual, expected_sha256.lower()):
        raise UpdateError(f"sha256 mismatch: expected {expected_sha256.lower()}, got {actual}")


def verify_and_unpack(
    archive_path: Path,
    dest: Path,
    expected_sha256: str,
    expected_size: int,
    limits: UnpackLimits | None = None,
) -> UnpackResult:
    """Check the archive's size and sha256, then unpack it into ``dest`` (created here).

    ``dest`` must not exist; its parent must. Nothing is left at ``dest`` on failure.
    """
    verify_archive(archive_path, expected_sha256, expected_size)
    return unpack(archive_path, dest, limits)


def archive_format(path: Path) -> str:
    """Return ``tar.gz`` or ``zip`` from the file's first bytes."""
    with path.open("rb") as file:
        head = file.read(4)
    if head[:2] == b"\x1f\x8b":
        return "tar.gz"
    if head in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    raise UpdateError("bad archive: neither tar.gz nor zip")


def unpack(archive_path: Path, dest: Path, limits: UnpackLimits | None = None) -> UnpackResult:
    """Unpack a ``tar.gz`` or ``zip`` archive into ``dest`` (see the module docstring)."""
    kind = archive_format(archive_path)
    try:
        dest.mkdir(mode=0o755)
    except FileExistsError:
        raise UpdateError(f"unpack: {dest} already exists") from None
    extractor = _Extractor(dest, limits or UnpackLimits())
    try:
        if kind == "zip":
            _unpack_zip(archive_path, extractor)
        else:
            _unpack_tar(archive_path, extractor)
        extractor.finish()
    except UpdateError:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    except (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError) as err:
        shutil.rmtree(dest, ignore_errors=True)
        raise UpdateError(f"bad archive: {kind}: {err or type(err).__name__}") from None
    except gzip.BadGzipFile as err:
        shutil.rmtree(dest, ignore_errors=True)
        raise UpdateError(f"bad archive: {kind}: {err}") from None
    except OSError as err:
        shutil.rmtree(dest, ignore_errors=True)
        raise UpdateError(f"unpack: {err}") from None
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    if extractor.files == 0:
        shutil.rmtree(dest, ignore_errors=True)
        raise UpdateError("bad archive: it holds no files")
    return UnpackResult(
        kind, extractor.files, len(extractor.dirs), len(extractor.links), extractor.total
    )


def _unpack_tar(path: Path, extractor: _Extractor) -> None:
    # One streaming pass. gzip (not tarfile's own "r|gz", which stops after the first
    # gzip member) reads every member: unit archives are a body member plus a tail one.
    with (
        gzip.open(path, "rb") as unzipped,
        tarfile.open(fileobj=cast("IO[bytes]", unzipped), mode="r|") as archive,
    ):
        for member in archive:
            name = member.name
            if member.isdir():
                extractor.add_dir(name)
            elif member.issym():
                extractor.add_symlink(name, member.linkname)
            elif member.islnk():
                extractor.add_hardlink(name, member.linkname)
            elif member.isreg():
                extractor.check_file(name, member.size)
                content = archive.extractfile(member)
                assert content is not None  # a regular file always has one
                with content:
                    extractor.add_file(name, member.mode, member.size, content)
            else:
                extractor.refuse_type(name, _tar_kind(member))


def _tar_kind(member: tarfile.TarInfo) -> str:
    if member.ischr():
        return "a character device"
    if member.isblk():
        return "a block device"
    if member.isfifo():
        return "a FIFO"
    return f"of tar type {member.type!r}"


def _unpack_zip(path: Path, extractor: _Extractor) -> None:
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = info.filename
            mode = info.external_attr >> 16
            if info.flag_bits & 0x1:
                raise UpdateError(f"archive: {name}: encrypted entries are not supported")
            kind = stat.S_IFMT(mode)
            if info.is_dir() or kind == stat.S_IFDIR:
                extractor.add_dir(name)
            elif kind == stat.S_IFLNK:
                if info.file_size > MAX_LINK_TARGET:
                    raise UpdateError(f"archive: {name}: symlink target too long")
                target = archive.read(info).decode("utf-8", errors="replace")
                extractor.add_symlink(name, target)
            elif kind in (0, stat.S_IFREG):
                extractor.check_file(name, info.file_size)
                with archive.open(info) as stream:
                    extractor.add_file(name, mode, info.file_size, stream)
            else:
                extractor.refuse_type(name, _mode_kind(kind))


def _mode_kind(kind: int) -> str:
    return {
        stat.S_IFCHR: "a character device",
        stat.S_IFBLK: "a block device",
        stat.S_IFIFO: "a FIFO",
        stat.S_IFSOCK: "a socket",
    }.get(kind, f"of file type {kind:o}")


class _Extractor:
    """Writes checked entries under ``dest``; symlinks and hard links come last."""

    def __init__(self, dest: Path, limits: UnpackLimits) -> None:
        self.dest = dest
        self.limits = limits
        self.entries = 0
        self.files = 0
        self.total = 0
        self.file_paths: set[str] = set()
        self.dirs: set[str] = set()
        self.links: dict[str, str] = {}
        self.hardlinks: list[tuple[str, str]] = []

    # paths

    def member_path(self, name: str, *, allow_root: bool = False) -> str:
        """Return the entry's normalized relative path, or refuse it."""
        self.entries += 1
        if self.entries > self.limits.max_entries:
            raise UpdateError(f"archive: more than {self.limits.max_entries} entries; refused")
        shown = name[:120]
        if "\0" in name or "\\" in name:
            raise UpdateError(f"archive: {shown!r}: a backslash or NUL in a path; refused")
        if len(name.encode("utf-8", errors="replace")) > MAX_PATH_BYTES:
            raise UpdateError(f"archive: {shown!r}…: path longer than {MAX_PATH_BYTES} bytes")
        if name.startswith("/") or _DRIVE_RE.match(name):
            raise UpdateError(f"archive: {shown}: absolute path; refused")
        parts = [part for part in name.split("/") if part not in ("", ".")]
        if ".." in parts:
            raise UpdateError(f"archive: {shown}: path with '..' leaves the archive; refused")
        if not parts and not allow_root:
            raise UpdateError(f"archive: {shown!r}: an empty path; refused")
        path = "/".join(parts)
        self._check_parents(path)
        return path

    def _check_parents(self, path: str) -> None:
        parent = posixpath.dirname(path)
        while parent:
            if parent in self.links:
                raise UpdateError(
                    f"archive: {path}: lies under {parent}, which is a symlink; refused"
                )
            if parent in self.file_paths:
                raise UpdateError(f"archive: {path}: lies under {parent}, which is a file")
            parent = posixpath.dirname(parent)

    def _claim(self, path: str) -> None:
        if path in self.file_paths or path in self.links or path in self.dirs:
            raise UpdateError(f"archive: {path}: duplicate entry; refused")

    # entries

    def add_dir(self, name: str) -> None:
        path = self.member_path(name, allow_root=True)
        if not path or path in self.dirs:
            return
        if path in self.file_paths or path in self.links:
            raise UpdateError(f"archive: {path}: duplicate entry; refused")
        self._make_parents(path)
        (self.dest / path).mkdir(mode=0o755, exist_ok=True)
        self.dirs.add(path)

    def _make_parents(self, path: str) -> None:
        parent = posixpath.dirname(path)
        missing: list[str] = []
        while parent and parent not in self.dirs:
            missing.append(parent)
            parent = posixpath.dirname(parent)
        for directory in reversed(missing):
            (self.dest / directory).mkdir(mode=0o755, exist_ok=True)
            self.dirs.add(directory)

    def check_file(self, name: str, size: int) -> None:
        """Refuse a file whose declared size breaks a limit, before reading it."""
        if size > self.limits.max_file_size:
            raise UpdateError(
                f"archive: {name}: {size} bytes; the limit for one file is "
                f"{self.limits.max_file_size}"
            )
        if self.total + size > self.limits.max_total_size:
            raise UpdateError(
                f"archive: unpacked content over {self.limits.max_total_size} bytes; refused"
            )

    def add_file(self, name: str, mode: int, size: int, stream: IO[bytes]) -> None:
        path = self.member_path(name)
        self._claim(path)
        self._make_parents(path)
        target = self.dest / path
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        perms = 0o755 if mode & 0o111 else 0o644
        written = 0
        with os.fdopen(os.open(target, flags, perms), "wb") as out:
            while chunk := stream.read(CHUNK):
                written += len(chunk)
                if written > size or self.total + written > self.limits.max_total_size:
                    raise UpdateError(f"archive: {path}: more bytes than declared; refused")
                out.write(chunk)
        target.chmod(perms)  # the umask may have removed bits
        self.total += written
        self.files += 1
        self.file_paths.add(path)

    def add_symlink(self, name: str, target: str) -> None:
        path = self.member_path(name)
        self._claim(path)
        if not target or "\0" in target or "\\" in target:
            raise UpdateError(f"archive: symlink {path}: empty or invalid target; refused")
        if target.startswith("/") or _DRIVE_RE.match(target):
            raise UpdateError(
                f"archive: symlink {path} -> {target}: absolute target points outside; refused"
            )
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
        if resolved == ".." or resolved.startswith("../"):
            raise UpdateError(
                f"archive: symlink {path} -> {target}: points outside the archive; refused"
            )
        self.links[path] = target

    def add_hardlink(self, name: str, target: str) -> None:
        path = self.member_path(name)
        self._claim(path)
        parts = [part for part in target.split("/") if part not in ("", ".")]
        source = "/".join(parts)
        if target.startswith("/") or ".." in parts or source not in self.file_paths:
            raise UpdateError(
                f"archive: hard link {path} -> {target}: not a file of the archive; refused"
            )
        self.check_file(path, (self.dest / source).stat().st_size)
        self.hardlinks.append((path, source))
        self.file_paths.add(path)

    def refuse_type(self, name: str, kind: str) -> None:
        raise UpdateError(
            f"archive: {name}: is {kind}; only files, directories and symlinks are allowed"
        )

    def finish(self) -> None:
        """Create hard-link copies and symlinks, then check where every symlink leads."""
        for path, source in self.hardlinks:
            self._make_parents(path)
            shutil.copyfile(self.dest / source, self.dest / path, follow_symlinks=False)
            shutil.copymode(self.dest / source, self.dest / path)
            self.total += (self.dest / path).stat().st_size
            self.files += 1
        for path in sorted(self.links):
            self._make_parents(path)
            try:
                (self.dest / path).symlink_to(self.links[path])
            except FileExistsError:
                raise UpdateError(f"archive: {path}: duplicate entry; refused") from None
        root = os.path.realpath(self.dest)
        for path, target in sorted(self.links.items()):
            real = os.path.realpath(self.dest / path)
            if real != root and not real.startswith(root + os.sep):
                raise UpdateError(
                    f"archive: symlink {path} -> {target}: leads outside the archive "
                    "through other symlinks; refused"
                )
