"""The file tree at a commit: listed from git, checked for hostile content, filtered.

A tree is refused as a whole (nothing is packaged) when it holds:

* a path with an empty, ``.``, ``..`` or ``.git`` component, a backslash, or a NUL;
* a symlink whose target is absolute or, resolved through the tree's own symlinks,
  leaves the tree;
* a submodule (gitlink): its content lives elsewhere and is never fetched;
* a file over the single-file size limit.

Every such problem is a :class:`TreeIssue` (the file's path and the reason); a check
reports all of them, not just the first.
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
MAX_SHOWN: Final = 200
"""The most characters of a refused path an issue repeats."""
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


@dataclass(frozen=True, slots=True)
class TreeIssue:
    """One problem of a tree: the file's path in the repository and why it is refused."""

    path: str
    reason: str
    too_large: bool = False

    @property
    def message(self) -> str:
        """Return the problem as one line (``tree: path: reason``)."""
        return f"tree: {self.path}: {self.reason}"


@dataclass(slots=True)
class Tree:
    """A commit's tree as listed: its entries, and the entries refused while listing."""

    entries: list[TreeEntry]
    issues: list[TreeIssue]


def parse_ls_tree(output: bytes) -> Tree:
    """Parse ``git ls-tree -r -z --long``; undecodable or hostile paths become issues."""
    tree = Tree([], [])
    for record in output.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode_text, _type, oid, size_text = meta.split()
        try:
            path = raw_path.decode("utf-8")
        except UnicodeDecodeError:
            tree.issues.append(
                TreeIssue(
                    raw_path.decode("utf-8", "backslashreplace")[:MAX_SHOWN],
                    "path is not UTF-8; archives need UTF-8 names",
                )
            )
            continue
        if (problem := path_problem(path)) is not None:
            tree.issues.append(TreeIssue(path[:MAX_SHOWN], problem))
            continue
        mode = int(mode_text, 8)
        size = 0 if size_text == b"-" else int(size_text)
        tree.entries.append(TreeEntry(path, mode, oid.decode(), size))
    return tree


def path_problem(path: str) -> str | None:
    """Return why ``path`` could write outside an extraction directory, or ``None``."""
    if len(path.encode()) > MAX_PATH_BYTES:
        return f"path longer than {MAX_PATH_BYTES} bytes"
    if path.startswith("/"):
        return "absolute path"
    if "\\" in path or "\0" in path:
        return "path contains a backslash or NUL"
    for part in path.split("/"):
        if part in ("", ".", ".."):
            return "path has an empty, '.' or '..' component"
        if part.lower() == ".git":
            return "path has a '.git' component"
    return None


def tree_issues(
    tree: Tree,
    link_targets: Mapping[str, str],
    max_file_size: int,
    submodule_urls: Mapping[str, str] | None = None,
) -> list[TreeIssue]:
    """Return every problem of ``tree``: its refused paths, then, in tree order, each
    submodule, file of an unsupported mode, oversized file and symlink that leaves it."""
    issues = list(tree.issues)
    for entry in tree.entries:
        if entry.mode == MODE_GITLINK:
            url = (submodule_urls or {}).get(entry.path)
            where = f" pointing to {url}" if url else ""
            issues.append(
                TreeIssue(
                    entry.path,
                    f"a submodule{where}; submodules are not packaged "
                    "(vendor the code into the repository instead)",
                )
            )
        elif entry.mode not in (MODE_FILE, MODE_EXECUTABLE, MODE_SYMLINK):
            issues.append(TreeIssue(entry.path, f"unsupported mode {entry.mode:o}"))
        elif entry.size > max_file_size:
            issues.append(
                TreeIssue(
                    entry.path,
                    f"{entry.size} bytes, over the single-file limit of {max_file_size} bytes",
                    too_large=True,
                )
            )
        elif entry.path in link_targets:
            try:
                resolve_link(entry.path, link_targets)
            except RefusedError as err:
                issues.append(TreeIssue(entry.path, err.message))
    return issues


def check_entries(
    tree: Tree,
    link_targets: Mapping[str, str],
    max_file_size: int,
    submodule_urls: Mapping[str, str] | None = None,
) -> None:
    """Refuse ``tree`` if it has any problem (see :func:`tree_issues`), with all of them."""
    if not (issues := tree_issues(tree, link_targets, max_file_size, submodule_urls)):
        return
    error = TooLargeError if all(issue.too_large for issue in issues) else RefusedError
    raise error(
        "; ".join(issue.message for issue in issues),
        details=[{"file": issue.path, "path": "", "reason": issue.reason} for issue in issues],
    )


def resolve_link(path: str, links: Mapping[str, str]) -> str:
    """Return where the symlink at ``path`` points inside the tree, or refuse it.

    Resolution follows the tree's own symlinks component by component, as a file system
    would, so ``a -> b/..`` with ``b -> ../..`` is caught even though the text ``b/..``
    looks harmless. The refusal's message is the reason alone (the caller knows ``path``).
    """
    target = links[path]
    if not target or target.startswith("/"):
        raise RefusedError(f"symlink to {target!r} is absolute")
    if "\0" in target or "\\" in target:
        raise RefusedError("symlink target has a backslash or NUL")
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
                raise RefusedError(f"symlink to {target!r} points outside the tree")
            resolved.pop()
            continue
        candidate = "/".join([*resolved, part])
        if candidate in links:
            hops += 1
            if hops > MAX_LINK_HOPS:
                raise RefusedError(f"symlink to {target!r} loops")
            inner = links[candidate]
            if not inner or inner.startswith("/"):
                raise RefusedError(
                    f"symlink to {target!r} goes through {candidate}, whose target "
                    f"{inner!r} is absolute"
                )
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
