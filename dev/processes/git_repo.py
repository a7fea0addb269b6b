"""Real git repositories built with the ``git`` CLI, for the firmware service to clone.

:class:`FirmwareGitRepo` is a work tree pushing to a bare twin the service clones through
``file://`` (tests and benchmarks); :func:`git` runs git with a fixed identity and date, so
the same commits get the same ids.
"""

from __future__ import annotations

from collections.abc import Mapping
import json
import os
from pathlib import Path
import subprocess
from typing import Any

GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_AUTHOR_NAME": "Ada Maker",
    "GIT_AUTHOR_EMAIL": "ada@example.invalid",
    "GIT_COMMITTER_NAME": "Ada Maker",
    "GIT_COMMITTER_EMAIL": "ada@example.invalid",
}


def git(cwd: Path, *args: str, date: str = "2024-05-01T12:00:00Z") -> str:
    """Run git in ``cwd`` with a fixed identity and date; return stdout."""
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        env={**os.environ, **GIT_ENV, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date},
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr.decode()}")
    return result.stdout.decode()


class FirmwareGitRepo:
    """A work repository pushing to a bare twin (``url``) that the service clones."""

    def __init__(self, root: Path, name: str = "bench-thermo") -> None:
        """Create both repositories under ``root`` (outside the service's data folder)."""
        self.work = root / f"{name}-work"
        self.bare = root / f"{name}.git"
        self.work.mkdir(parents=True)
        git(self.work, "init", "-q", "-b", "main")
        git(root, "init", "-q", "--bare", "-b", "main", str(self.bare))
        git(self.work, "remote", "add", "origin", str(self.bare))
        self._day = 0

    @property
    def url(self) -> str:
        """The ``file://`` URL of the bare repository."""
        return f"file://{self.bare}"

    def commit(self, message: str, files: Mapping[str, str | bytes | dict[str, Any]]) -> str:
        """Write ``files`` (dicts as JSON), commit one day after the last, push; return the id."""
        for path, content in files.items():
            target = self.work / path
            target.parent.mkdir(parents=True, exist_ok=True)
            data = json.dumps(content, indent=1) if isinstance(content, dict) else content
            target.write_bytes(data.encode() if isinstance(data, str) else data)
        self._day += 1
        date = f"2024-05-{self._day:02d}T12:00:00Z"
        git(self.work, "add", "-A")
        git(self.work, "commit", "-q", "-m", message, date=date)
        self.push()
        return git(self.work, "rev-parse", "HEAD").strip()

    def tag(self, name: str, ref: str = "HEAD") -> None:
        """Tag ``ref`` (lightweight) and push."""
        git(self.work, "tag", name, ref)
        self.push()

    def branch(self, name: str, ref: str = "HEAD") -> None:
        """Create a branch at ``ref`` and push."""
        git(self.work, "branch", name, ref)
        self.push()

    def push(self) -> None:
        """Push every branch and tag to the bare repository."""
        git(self.work, "push", "-q", "--force", "--all", "origin")
        git(self.work, "push", "-q", "--force", "--tags", "origin")
