"""Real git repositories for the firmware service's tests, built with the git CLI."""

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
    "GIT_AUTHOR_DATE": "2024-05-01T12:00:00Z",
    "GIT_COMMITTER_DATE": "2024-05-01T12:00:00Z",
}

MAKERHUB_JSON: dict[str, Any] = {
    "name": "Bench thermometer",
    "platforms": ["python"],
    "outputs": {"temperature": {"type": "float", "unit": "°C"}},
    "inputs": {"relay": {"type": "bool"}},
    "env": {"SENSOR_PIN": {"default": 4, "type": "int"}},
}


def git(cwd: Path, *args: str, stdin: bytes | None = None) -> str:
    """Run git in ``cwd`` with a fixed identity and date; return stdout."""
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env={**os.environ, **GIT_ENV},
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr.decode()}")
    return result.stdout.decode()


class WorkRepo:
    """A working repository with a bare twin that the service clones from."""

    def __init__(self, root: Path, name: str = "firmware") -> None:
        self.work = root / f"{name}-work"
        self.bare = root / f"{name}.git"
        self.work.mkdir(parents=True)
        git(self.work, "init", "-q", "-b", "main")
        git(root, "init", "-q", "--bare", "-b", "main", str(self.bare))
        git(self.work, "remote", "add", "origin", str(self.bare))

    @property
    def url(self) -> str:
        """The ``file://`` URL of the bare repository."""
        return f"file://{self.bare}"

    def write(self, files: Mapping[str, bytes | str | dict[str, Any]]) -> None:
        """Write files into the work tree (dicts become JSON)."""
        for path, content in files.items():
            target = self.work / path
            target.parent.mkdir(parents=True, exist_ok=True)
            data = json.dumps(content) if isinstance(content, dict) else content
            target.write_bytes(data.encode() if isinstance(data, str) else data)

    def symlink(self, path: str, target: str) -> None:
        """Add a symbolic link."""
        link = self.work / path
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(target)

    def commit(self, message: str, files: Mapping[str, Any] | None = None) -> str:
        """Commit everything (after writing ``files``) and push all refs; return the id."""
        if files:
            self.write(files)
        git(self.work, "add", "-A")
        git(self.work, "commit", "-q", "--allow-empty", "-m", message)
        self.push()
        return git(self.work, "rev-parse", "HEAD").strip()

    def push(self) -> None:
        """Push every branch and tag to the bare repository."""
        git(self.work, "push", "-q", "--force", "--all", "origin")
        git(self.work, "push", "-q", "--force", "--tags", "origin")

    def branch(self, name: str) -> None:
        git(self.work, "checkout", "-q", "-b", name)

    def checkout(self, name: str) -> None:
        git(self.work, "checkout", "-q", name)

    def tag(self, name: str, message: str | None = None) -> None:
        if message is None:
            git(self.work, "tag", name)
        else:
            git(self.work, "tag", "-a", name, "-m", message)
        self.push()


def valid_repo(
    root: Path, name: str = "firmware", extra: Mapping[str, Any] | None = None
) -> WorkRepo:
    """A repository with a valid makerhub.json, one commit on main."""
    repo = WorkRepo(root, name)
    repo.commit(
        "First firmware",
        {"makerhub.json": MAKERHUB_JSON, "main.py": "print('hello')\n", **(extra or {})},
    )
    return repo
