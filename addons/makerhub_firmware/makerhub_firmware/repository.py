"""One synced repository on disk (a bare clone), read through git."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import re
from typing import Any, Final

from .errors import NotFoundError, RefusedError, TooLargeError
from .gitcmd import Git, GitCommandError
from .tree import MODE_SYMLINK, Tree, TreeEntry, TreeIssue, parse_ls_tree

COMMIT_RE: Final = re.compile(r"[0-9a-f]{40}")
REF_RE: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/+-]{0,254}")
MAX_COMMITS: Final = 100
MAX_LINK_TARGET: Final = 4096


def check_ref(ref: object) -> str:
    """Return ``ref`` if it is a plausible branch, tag or commit name; refuse otherwise."""
    if not isinstance(ref, str) or REF_RE.fullmatch(ref) is None:
        raise RefusedError("ref: a branch, tag or commit: letters, digits and . _ / + - only")
    if ".." in ref or ref.endswith((".lock", "/", ".")) or "//" in ref or "/." in ref:
        raise RefusedError(f"ref: {ref!r} is not a valid ref name")
    return ref


@dataclass(frozen=True, slots=True)
class RepoFile:
    """A small file read from a commit."""

    path: str
    oid: str
    content: bytes


class GitRepository:
    """Queries against the bare clone at ``path``."""

    def __init__(self, git: Git, path: Path) -> None:
        """Read the bare repository at ``path`` with ``git``."""
        self.git = git
        self.path = path

    @property
    def exists(self) -> bool:
        """Return whether the clone exists (the first sync succeeded)."""
        return (self.path / "HEAD").is_file()

    async def _run(self, *args: str, stdin: bytes | None = None) -> bytes:
        return (await self.git.run(args, git_dir=self.path, stdin=stdin)).stdout

    async def resolve(self, ref: str) -> str:
        """Return the commit ``ref`` names (branch, tag, or commit id)."""
        check_ref(ref)
        result = await self.git.run(
            ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
            git_dir=self.path,
            check=False,
        )
        commit = result.stdout.decode().strip()
        if COMMIT_RE.fullmatch(commit) is None:
            raise NotFoundError(f"ref {ref!r} does not name a commit in this repository")
        return commit

    async def refs(self) -> tuple[dict[str, str], dict[str, str]]:
        """Return the branches and tags with the commit each points at."""
        out = await self._run(
            "for-each-ref",
            "--format=%(refname)%00%(objectname)%00%(*objectname)",
            "refs/heads",
            "refs/tags",
        )
        branches: dict[str, str] = {}
        tags: dict[str, str] = {}
        for line in out.decode().splitlines():
            name, oid, peeled = line.split("\0")
            if name.startswith("refs/heads/"):
                branches[name.removeprefix("refs/heads/")] = oid
            elif name.startswith("refs/tags/"):
                tags[name.removeprefix("refs/tags/")] = peeled or oid
        return branches, tags

    async def recent_commits(self, limit: int = 20) -> list[dict[str, Any]]:
        """Return the newest commits on all branches and tags, with their messages."""
        branches, tags = await self.refs()
        if not branches and not tags:
            return []
        out = await self._run(
            "log",
            "--branches",
            "--tags",
            "--date-order",
            f"--max-count={min(limit, MAX_COMMITS)}",
            "--format=%H%x00%an%x00%ct%x00%s%x00%b%x1e",
        )
        commits = []
        for raw in out.decode("utf-8", "replace").split("\x1e"):
            record = raw.strip("\n")
            if not record:
                continue
            commit, author, timestamp, subject, body = record.split("\0")
            commits.append(
                {
                    "commit": commit,
                    "author": author,
                    "time": int(timestamp),
                    "subject": subject,
                    "message": (subject + "\n\n" + body.strip()).strip(),
                }
            )
        return commits

    async def commit_time(self, commit: str) -> int:
        """Return the committer time of ``commit`` (unix seconds)."""
        return int((await self._run("show", "-s", "--format=%ct", commit, "--")).strip())

    async def list_tree(self, commit: str) -> Tree:
        """Return every file of the commit's tree (hostile paths as issues, see :mod:`.tree`)."""
        return parse_ls_tree(
            await self._run("ls-tree", "-r", "-z", "--long", "--full-tree", commit)
        )

    async def tags_at(self, commit: str) -> list[str]:
        """Return the tags that point at ``commit``, sorted."""
        out = await self._run("tag", "--list", "--points-at", commit)
        return sorted(out.decode().split())

    async def read_files(self, commit: str, paths: list[str], max_size: int) -> dict[str, RepoFile]:
        """Return the root-level files of ``paths`` that exist at ``commit`` as blobs.

        Files larger than ``max_size`` are refused before any is read (the error's
        details name each of them).
        """
        spec = "".join(f"{commit}:{path}\n" for path in paths).encode()
        out = await self._run(
            "cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)", stdin=spec
        )
        found: list[tuple[str, str]] = []
        oversized: list[dict[str, str]] = []
        for path, line in zip(paths, out.decode().splitlines(), strict=True):
            parts = line.split()
            if len(parts) != 3 or parts[1] != "blob":
                continue
            if int(parts[2]) > max_size:
                reason = f"{parts[2]} bytes, over the {max_size}-byte limit"
                oversized.append({"file": path, "path": "", "reason": reason})
            found.append((path, parts[0]))
        if oversized:
            raise TooLargeError(
                "; ".join(f"{item['file']}: {item['reason']}" for item in oversized),
                details=oversized,
            )
        if not found:
            return {}
        data = await self._run(
            "cat-file", "--batch", stdin="".join(f"{oid}\n" for _, oid in found).encode()
        )
        files: dict[str, RepoFile] = {}
        position = 0
        for path, oid in found:
            header_end = data.index(b"\n", position)
            size = int(data[position:header_end].split()[2])
            start = header_end + 1
            files[path] = RepoFile(path, oid, data[start : start + size])
            position = start + size + 1
        return files

    async def has_commit(self, commit: str) -> bool:
        """Return whether ``commit`` (40 hex digits) is a commit of this repository."""
        if COMMIT_RE.fullmatch(commit) is None:
            return False
        try:
            await self._run("cat-file", "-e", f"{commit}^{{commit}}")
        except GitCommandError:
            return False
        return True

    async def link_targets(self, tree: Tree) -> dict[str, str]:
        """Return path → target of the tree's symlinks (one git process).

        A symlink whose target is too long or not UTF-8 is left out and added to the
        tree's issues.
        """
        links: list[TreeEntry] = []
        for entry in tree.entries:
            if entry.mode != MODE_SYMLINK:
                continue
            if entry.size > MAX_LINK_TARGET:
                tree.issues.append(
                    TreeIssue(entry.path, f"symlink with a {entry.size}-byte target")
                )
            else:
                links.append(entry)
        if not links:
            return {}
        data = await self._run(
            "cat-file", "--batch", stdin="".join(f"{link.oid}\n" for link in links).encode()
        )
        targets: dict[str, str] = {}
        position = 0
        for link in links:
            start = data.index(b"\n", position) + 1
            raw = data[start : start + link.size]
            try:
                targets[link.path] = raw.decode("utf-8")
            except UnicodeDecodeError:
                tree.issues.append(TreeIssue(link.path, "symlink target is not UTF-8"))
            position = start + link.size + 1
        return targets

    async def size(self) -> int:
        """Return the bytes the clone's objects take on disk."""
        out = await self._run("count-objects", "-v")
        values = dict(line.split(": ", 1) for line in out.decode().splitlines())
        return (int(values["size"]) + int(values["size-pack"])) * 1024
