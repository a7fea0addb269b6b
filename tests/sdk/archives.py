"""Unit archives for the update tests: as the firmware service builds them, or hostile."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
import hashlib
import io
import json
from pathlib import Path
import stat
import tarfile
from typing import Any
import zipfile

from makerhub_firmware.archive import (
    ArchiveFile,
    ArchiveFormat,
    build_tail,
    constant,
    memory_file,
    write_body,
)


@dataclass(frozen=True)
class Link:
    """A symlink in :func:`hub_archive`'s file map."""

    target: str


def hub_archive(
    path: Path,
    files: Mapping[str, bytes | str | Link],
    *,
    env: Mapping[str, Any] | None = None,
    schema: Mapping[str, Any] | None = None,
    fmt: str = "tar.gz",
    executable: Sequence[str] = (),
) -> Path:
    """Write an archive the way the firmware service does: body, then the unit's tail."""
    entries: list[ArchiveFile] = []
    for name in sorted(files):
        content = files[name]
        if isinstance(content, Link):
            target = content.target.encode()
            entries.append(ArchiveFile(name, 0o777, len(target), constant(target), is_link=True))
            continue
        data = content.encode() if isinstance(content, str) else content
        mode = 0o755 if name in executable else 0o644
        entries.append(ArchiveFile(name, mode, len(data), constant(data)))
    tail: list[ArchiveFile] = []
    if env is not None:
        tail.append(memory_file("env.json", json.dumps(env).encode()))
    if schema is not None:
        tail.append(memory_file("schema.json", json.dumps(schema).encode()))
    with path.open("w+b") as out:
        body = write_body(ArchiveFormat(fmt), entries, out, 1_700_000_000)
        out.write(build_tail(body, tail))
    return path


def digest(path: Path) -> tuple[str, int]:
    """Return the sha256 and size an update command would announce."""
    data = path.read_bytes()
    return hashlib.sha256(data).hexdigest(), len(data)


# hostile archives: (kind, name, extra) with kind file/dir/symlink/hardlink/chr/blk/fifo


def raw_tar(path: Path, entries: Sequence[tuple[str, str, Any]]) -> Path:
    """Write a tar.gz exactly as listed, without tarfile's own checks in the way."""
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as archive:
        for kind, name, extra in entries:
            info = tarfile.TarInfo(name)
            data: bytes | None = None
            if kind == "file":
                data = extra if isinstance(extra, bytes) else str(extra or "").encode()
                info.size = len(data)
                info.mode = 0o644
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = extra
            elif kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = extra
            elif kind == "chr":
                info.type = tarfile.CHRTYPE
                info.devmajor, info.devminor = 1, 3
            elif kind == "blk":
                info.type = tarfile.BLKTYPE
            elif kind == "fifo":
                info.type = tarfile.FIFOTYPE
            else:
                raise ValueError(kind)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def raw_zip(path: Path, entries: Sequence[tuple[str, str, Any]]) -> Path:
    """Write a zip exactly as listed (symlinks and devices through the unix mode bits)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for kind, name, extra in entries:
            info = zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0))
            info.create_system = 3
            if kind == "file":
                mode = stat.S_IFREG | (extra[1] if isinstance(extra, tuple) else 0o644)
                data = extra[0] if isinstance(extra, tuple) else extra
                info.external_attr = mode << 16
                archive.writestr(info, data)
            elif kind == "dir":
                info.external_attr = (stat.S_IFDIR | 0o755) << 16 | 0x10
                archive.writestr(info, b"")
            elif kind == "symlink":
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                archive.writestr(info, extra)
            elif kind == "chr":
                info.external_attr = (stat.S_IFCHR | 0o644) << 16
                archive.writestr(info, b"")
            else:
                raise ValueError(kind)
    return path
