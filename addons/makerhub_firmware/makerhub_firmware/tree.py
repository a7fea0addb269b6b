"""The file tree at a commit: listed from git, checked for hostile content, filtered.

A tree is refused as a whole (nothing is packaged) when it holds:

* a path with an empty, ``.``, ``..`` or ``.git`` component, a backslash, or a NUL;
* a symlink whose target is absolute or, resolved through the tree's own symlinks,
  leaves the tree;
* a submodule (gitlink): its content lives elsewhere and is never fetched;
* a file over the single-file size limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
import posixpath
from typing import Final

from .errors import RefusedError, TooLargeError
from .ignore import IgnoreRules

MODE_FILE: Final = 0o100644
MODE_EXECUTABLE: Final = 0o100755
MODE_SYMLINK: Final = 0o120000
MODE_GITLINK: Final = 0o160000
MAX_LINK_HOPS: Final = 40
MAX_PATH_BYTES: Final = 4096
ALWAYS_EXCLUDED: Final = "/examples/\n"
"""Left out of every archive, before the repository's own ``.makerhubignore``."""


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """One file of a commit's tree."""

    path: str
    mode: int
    oid: str
    size: int

    @property
    def is_symlink(self) -> bool:
        """Return whether the entry is a symbolic link."""
        return self.mode == MODE_SYMLINK


def parse_ls_tree(output: bytes) -> list[TreeEntry]:
    """Parse ``git ls-tree -r -z --long``; refuse undecodable or hostile paths."""
    entries: list[TreeEntry] = []
    for record in output.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode_text, _type, oid, size_text = meta.split()
        try:
            path = raw_path.decode("utf-8")
        except UnicodeDecodeError:
            raise RefusedError(
                f"tree: path {raw_path[:80]!r} is not UTF-8; archives need UTF-8 names"
            ) from None
        check_path(path)
        mode = int(mode_text, 8)
        size = 0 if size_text == b"-" else int(size_text)
        entries.append(TreeEntry(path, mode, oid.decode(), size))
    return entries


def check_path(path: str) -> None:
    """Refuse a path that could write outside an extraction directory."""
    if len(path.encode()) > MAX_PATH_BYTES:
        raise RefusedError(f"tree: path longer than {MAX_PATH_BYTES} bytes: {path[:80]}…")
    if path.startswith("/"):
        raise RefusedError(f"tree: absolute path {path!r}")
    if "\\" in path or "\0" in path:
        raise RefusedError(f"tree: path {path!r} contains a backslash or NUL")
    for part in path.split("/"):
        if part in ("", ".", ".."):
            raise RefusedError(f"tree: path {path!r} has an empty, '.' or '..' component")
        if part.lower() == ".git":
            raise RefusedError(f"tree: path {path!r} has a '.git' component")


def check_entries(
    entries: Iterable[TreeEntry],
    link_targets: Mapping[str, str],
    max_file_size: int,
    submodule_urls: Mapping[str, str] | None = None,
) -> None:
    """Refuse submodules, oversized files and symlinks that leave the tree."""
    links = dict(link_targets)
    for entry in entries:
        if entry.mode == MODE_GITLINK:
            url = (submodule_urls or {}).get(entry.path)
            where = f" pointing to {url}" if url else ""
            raise RefusedError(
                f"tree: {entry.path} is a submodule{where}; submodules are not packaged "
                "(vendor the code into the repository instead)"
            )
        if entry.mode not in (MODE_FILE, MODE_EXECUTABLE, MODE_SYMLINK):
            raise RefusedError(f"tree: {entry.path} has unsupported mode {entry.mode:o}")
        if entry.size > max_file_size:
            raise TooLargeError(
                f"tree: {entry.path} is {entry.size} bytes, over the single-file limit "
                f"of {max_file_size} bytes"
            )
    for path in links:
        resolve_link(path, links)


def resolve_link(path: str, links: Mapping[str, str]) -> str:
    """Return where the symlink at ``path`` points inside the tree, or refuse it.

    Resolution follows the tree's own symlinks component by component, as a file system
    would, so ``a -> b/..`` with ``b -> ../..`` is caught even though the text ``b/..``
    looks harmless.
    """
    target = links[path]
    if not target or target.startswith("/"):
        raise RefusedError(f"tree: symlink {path} -> {target!r} is absolute; refused")
    if "\0" in target or "\\" in target:
        raise RefusedError(f"tree: symlink {path} has a target with a backslash or NUL")
    pending = [*posixpath.dirname(path).split("/"), *target.split("/")]
    pending = [part for part in pending if part]
    resolved: list[str] = []
    hops = 0
    while pending:
        part = pending.pop(0)
        if part == ".":
            continue
        if part == "..":
            if not resolved:
                raise RefusedError(f"tree: symlink {path} -> {target} points outside the tree")
            resolved.pop()
            continue
        candidate = "/".join([*resolved, part])
        if candidate in links:
            hops += 1
            if hops > MAX_LINK_HOPS:
                raise RefusedError(f"tree: symlink {path} -> {target} loops")
            inner = links[candidate]
            if not inner or inner.startswith("/"):
                raise RefusedError(f"tree: symlink {candidate} -> {inner!r} is absolute; refused")
            pending = [p for p in inner.split("/") if p] + pending
            continue
        resolved.append(part)
    return "/".join(resolved)


def select_entries(
    entries: Iterable[TreeEntry], rules: IgnoreRules, replaced: Iterable[str] = ()
) -> list[TreeEntry]:
    """Return the entries that go into an archive, sorted by path (bytewise).

    Leaves out ``examples/``, what ``rules`` exclude and the root files the archive
    replaces (``env.json``, ``schema.json``, a release asset).
    """
    always = IgnoreRules.parse(ALWAYS_EXCLUDED)
    skipped = frozenset(replaced)
    kept = [
        entry
        for entry in entries
        if entry.path not in skipped
        and not always.is_excluded(entry.path)
        and not rules.is_excluded(entry.path)
    ]
    kept.sort(key=lambda entry: entry.path.encode())
    return kept
