"""Unpacking firmware archives: what the firmware service builds comes out whole; hostile
archives are refused with a message naming the entry and the reason, leaving nothing."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path
import stat

import pytest

from makerhub_unit.unpack import (
    UnpackLimits,
    UpdateError,
    unpack,
    verify_and_unpack,
    verify_archive,
)

from .archives import Link, digest, hub_archive, raw_tar, raw_zip

FILES: dict[str, bytes | str | Link] = {
    "main.py": "print('hello')\n",
    "makerhub.json": '{"name": "x"}',
    "lib/util.py": "X = 1\n",
    "lib/data/table.bin": bytes(range(256)) * 10,
    "tools/run.sh": "#!/bin/sh\necho hi\n",
    "util.py": Link("lib/util.py"),
    "lib/data/up": Link("../util.py"),
}


@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_unpacks_what_the_firmware_service_builds(tmp_path: Path, fmt: str) -> None:
    archive = hub_archive(
        tmp_path / f"unit.{fmt}",
        FILES,
        env={"MH_VERSION": "abc"},
        schema={"v": 1},
        fmt=fmt,
        executable=["tools/run.sh"],
    )
    sha256, size = digest(archive)
    dest = tmp_path / "out"
    result = verify_and_unpack(archive, dest, sha256, size)
    assert result.format == fmt
    assert (result.files, result.symlinks) == (7, 2)
    assert (dest / "main.py").read_text() == "print('hello')\n"
    assert (dest / "lib/data/table.bin").read_bytes() == bytes(range(256)) * 10
    assert (dest / "env.json").read_text() == '{"MH_VERSION": "abc"}'
    assert (dest / "schema.json").is_file()
    assert (dest / "util.py").readlink() == Path("lib/util.py")
    assert (dest / "lib/data/up").read_text() == "X = 1\n"
    assert stat.S_IMODE((dest / "tools/run.sh").stat().st_mode) == 0o755
    assert stat.S_IMODE((dest / "main.py").stat().st_mode) == 0o644


def test_hard_link_to_an_earlier_file_becomes_a_copy(tmp_path: Path) -> None:
    archive = raw_tar(
        tmp_path / "a.tar.gz",
        [("file", "main.py", b"pass\n"), ("hardlink", "copy.py", "main.py")],
    )
    unpack(archive, tmp_path / "out")
    copy = tmp_path / "out/copy.py"
    assert copy.read_bytes() == b"pass\n"
    assert not copy.is_symlink()
    assert copy.stat().st_ino != (tmp_path / "out/main.py").stat().st_ino


def test_checksum_mismatch_refused_before_unpacking(tmp_path: Path) -> None:
    archive = hub_archive(tmp_path / "unit.tar.gz", {"main.py": "pass\n"})
    _, size = digest(archive)
    wrong = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(UpdateError, match=f"sha256 mismatch: expected {wrong}, got [0-9a-f]{{64}}"):
        verify_and_unpack(archive, tmp_path / "out", wrong, size)
    assert not (tmp_path / "out").exists()


def test_size_mismatch_refused(tmp_path: Path) -> None:
    archive = hub_archive(tmp_path / "unit.zip", {"main.py": "pass\n"}, fmt="zip")
    sha256, size = digest(archive)
    with pytest.raises(UpdateError, match=f"size mismatch: expected {size + 1} bytes, got {size}"):
        verify_archive(archive, sha256, size + 1)
    with pytest.raises(UpdateError, match="size mismatch"):
        verify_and_unpack(archive, tmp_path / "out", sha256, size - 1)
    assert not (tmp_path / "out").exists()


HOSTILE_TAR = [
    ("dotdot", [("file", "../evil.py", b"x")], r"\.\./evil\.py: path with '\.\.' leaves"),
    ("nested dotdot", [("file", "a/../../evil", b"x")], r"a/\.\./\.\./evil: path with '\.\.'"),
    ("absolute", [("file", "/tmp/evil.py", b"x")], r"/tmp/evil\.py: absolute path; refused"),
    (
        "symlink absolute",
        [("symlink", "passwd", "/etc/passwd")],
        r"symlink passwd -> /etc/passwd: absolute target points outside",
    ),
    (
        "symlink up",
        [("symlink", "lib/up", "../../outside")],
        r"symlink lib/up -> \.\./\.\./outside: points outside the archive",
    ),
    (
        "symlink chain",
        [("symlink", "d1/l", ".."), ("file", "d1/f", b"x"), ("symlink", "x", "d1/l/..")],
        r"symlink x -> d1/l/\.\.: leads outside the archive through other symlinks",
    ),
    (
        "write through a symlink",
        [("symlink", "lib", "."), ("file", "lib/evil", b"x")],
        r"lib/evil: lies under lib, which is a symlink",
    ),
    (
        "hardlink outside",
        [("file", "a", b"x"), ("hardlink", "b", "/etc/shadow")],
        r"hard link b -> /etc/shadow: not a file of the archive",
    ),
    (
        "hardlink up",
        [("file", "a", b"x"), ("hardlink", "b", "../a")],
        r"hard link b -> \.\./a: not a file of the archive",
    ),
    ("char device", [("chr", "dev/null", None)], r"dev/null: is a character device"),
    ("block device", [("blk", "sda", None)], r"sda: is a block device"),
    ("fifo", [("fifo", "pipe", None)], r"pipe: is a FIFO"),
    (
        "duplicate",
        [("file", "main.py", b"good"), ("file", "main.py", b"evil")],
        r"main\.py: duplicate entry",
    ),
    (
        "file then symlink of the same name",
        [("file", "main.py", b"good"), ("symlink", "main.py", "other")],
        r"main\.py: duplicate entry",
    ),
    ("backslash", [("file", "..\\evil", b"x")], r"a backslash or NUL in a path"),
    ("no files", [("dir", "empty", None)], r"bad archive: it holds no files"),
]


@pytest.mark.parametrize(
    ("entries", "message"),
    [pytest.param(entries, message, id=name) for name, entries, message in HOSTILE_TAR],
)
def test_hostile_tar_refused(tmp_path: Path, entries: list, message: str) -> None:  # type: ignore[type-arg]
    archive = raw_tar(tmp_path / "evil.tar.gz", entries)
    with pytest.raises(UpdateError, match=message):
        unpack(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "evil.py").exists()
    assert not (tmp_path.parent / "evil.py").exists()


HOSTILE_ZIP = [
    ("dotdot", [("file", "../evil.py", b"x")], r"\.\./evil\.py: path with '\.\.' leaves"),
    ("absolute", [("file", "/tmp/evil.py", b"x")], r"/tmp/evil\.py: absolute path"),
    (
        "symlink absolute",
        [("symlink", "passwd", "/etc/passwd")],
        r"symlink passwd -> /etc/passwd: absolute target",
    ),
    (
        "symlink up",
        [("symlink", "up", "../x")],
        r"symlink up -> \.\./x: points outside the archive",
    ),
    (
        "write through a symlink",
        [("symlink", "lib", "/tmp"), ("file", "lib/evil", b"x")],
        r"symlink lib -> /tmp: absolute target",
    ),
    (
        "write through a relative symlink",
        [("symlink", "lib", "."), ("file", "lib/evil", b"x")],
        r"lib/evil: lies under lib, which is a symlink",
    ),
    ("char device", [("chr", "null", None)], r"null: is a character device"),
    (
        "duplicate",
        [("file", "main.py", b"a"), ("file", "main.py", b"b")],
        r"main\.py: duplicate entry",
    ),
]


@pytest.mark.filterwarnings("ignore:Duplicate name")
@pytest.mark.parametrize(
    ("entries", "message"),
    [pytest.param(entries, message, id=name) for name, entries, message in HOSTILE_ZIP],
)
def test_hostile_zip_refused(tmp_path: Path, entries: list, message: str) -> None:  # type: ignore[type-arg]
    archive = raw_zip(tmp_path / "evil.zip", entries)
    with pytest.raises(UpdateError, match=message):
        unpack(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_limits(tmp_path: Path) -> None:
    big = raw_tar(tmp_path / "big.tar.gz", [("file", "blob", b"\0" * 5000)])
    with pytest.raises(UpdateError, match="blob: 5000 bytes; the limit for one file is 4096"):
        unpack(big, tmp_path / "a", UnpackLimits(max_file_size=4096))
    many = raw_tar(tmp_path / "many.tar.gz", [("file", f"f{i}", b"x") for i in range(11)])
    with pytest.raises(UpdateError, match="more than 10 entries"):
        unpack(many, tmp_path / "b", UnpackLimits(max_entries=10))
    total = raw_tar(tmp_path / "total.tar.gz", [("file", f"f{i}", b"\0" * 600) for i in range(3)])
    with pytest.raises(UpdateError, match="unpacked content over 1500 bytes"):
        unpack(total, tmp_path / "c", UnpackLimits(max_total_size=1500))
    # a zip entry declaring far more than the limit is refused before it is inflated
    bomb = raw_zip(tmp_path / "bomb.zip", [("file", "zeros", b"\0" * 100_000)])
    with pytest.raises(UpdateError, match="zeros: 100000 bytes; the limit for one file is 65536"):
        unpack(bomb, tmp_path / "d", UnpackLimits(max_file_size=65536))
    for name in "abcd":
        assert not (tmp_path / name).exists()


def test_not_an_archive_and_truncated(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.write_bytes(b"#!/bin/sh\nrm -rf /\n")
    with pytest.raises(UpdateError, match=r"bad archive: neither tar\.gz nor zip"):
        unpack(junk, tmp_path / "a")
    good = hub_archive(tmp_path / "good.tar.gz", {"main.py": "x" * 10_000})
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(good.read_bytes()[:60])
    with pytest.raises(UpdateError, match=r"bad archive: tar\.gz"):
        unpack(truncated, tmp_path / "b")
    not_tar = tmp_path / "not-tar.gz"
    not_tar.write_bytes(gzip.compress(b"plain text, not a tar stream" * 40))
    with pytest.raises(UpdateError, match=r"bad archive: tar\.gz"):
        unpack(not_tar, tmp_path / "c")
    zipped = hub_archive(tmp_path / "good.zip", {"main.py": "pass\n"}, fmt="zip")
    broken_zip = tmp_path / "broken.zip"
    broken_zip.write_bytes(zipped.read_bytes()[:-30])
    with pytest.raises(UpdateError, match=r"bad archive: zip"):
        unpack(broken_zip, tmp_path / "d")
    for name in "abcd":
        assert not (tmp_path / name).exists()


def test_destination_must_not_exist(tmp_path: Path) -> None:
    archive = hub_archive(tmp_path / "unit.tar.gz", {"main.py": "pass\n"})
    (tmp_path / "out").mkdir()
    with pytest.raises(UpdateError, match="already exists"):
        unpack(archive, tmp_path / "out")
