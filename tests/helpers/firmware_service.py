"""The real firmware service (the ``makerhub_firmware`` add-on) in-process, and git repos.

For the integration's tests of its firmware client: :class:`FirmwareServer` runs the
add-on's own :class:`FirmwareService` and aiohttp app on a free port of 127.0.0.1 (as the
add-on's tests do), and :class:`FirmwareGitRepo` builds a real repository with the ``git``
CLI (a work tree pushing to a bare twin the service clones through ``file://``).
"""

from __future__ import annotations

from collections.abc import Mapping
import json
import os
from pathlib import Path
import subprocess
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from makerhub_firmware.api import create_app
from makerhub_firmware.service import FirmwareService
from makerhub_firmware.settings import Settings

TOKEN = "firmware-test-token-0123456789"
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_AUTHOR_NAME": "Ada Maker",
    "GIT_AUTHOR_EMAIL": "ada@example.invalid",
    "GIT_COMMITTER_NAME": "Ada Maker",
    "GIT_COMMITTER_EMAIL": "ada@example.invalid",
}

MAKERHUB_JSON: dict[str, Any] = {
    "name": "Bench thermometer",
    "platforms": ["python"],
    "outputs": {"temperature": {"type": "float", "unit": "°C", "device_class": "temperature"}},
    "inputs": {"relay": {"type": "bool"}},
    "env": {
        "SENSOR_PIN": {"default": 4, "type": "int"},
        "LABEL": {"default": "bench", "type": "str"},
        "CLOUD_KEY": {"type": "str", "secret": True},
    },
}


class FirmwareServer:
    """The firmware service on a free port of 127.0.0.1, started and stopped with ``async with``."""

    def __init__(self, data_dir: Path, token: str = TOKEN, **settings: Any) -> None:
        """Use ``data_dir``; ``settings`` override :class:`Settings` fields."""
        settings.setdefault("allowed_schemes", frozenset({"https", "ssh", "file"}))
        data_dir.mkdir(parents=True, exist_ok=True)
        self.settings = Settings(data_dir=data_dir, token=token, **settings)
        self.token = token
        self.service = FirmwareService(self.settings)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def __aenter__(self) -> Self:
        """Start serving."""
        self._runner = web.AppRunner(create_app(self.service), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop serving (the service stops with its app)."""
        if self._runner is not None:
            await self._runner.cleanup()


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


def thermometer_repo(root: Path) -> tuple[FirmwareGitRepo, str, str]:
    """A valid repository with two commits on ``main``; ``v1.0.0`` tags the first.

    Return the repository and both commit ids. The second commit adds a humidity output
    and an ``INTERVAL`` env key, with a message body (release notes).
    """
    repo = FirmwareGitRepo(root)
    first = repo.commit(
        "First firmware",
        {
            "makerhub.json": MAKERHUB_JSON,
            "main.py": "print('hello')\n",
            "examples/demo.py": "print('demo')\n",
            ".makerhubignore": "notes.txt\n",
            "notes.txt": "not for units\n",
        },
    )
    repo.tag("v1.0.0")
    second_schema = json.loads(json.dumps(MAKERHUB_JSON))
    second_schema["outputs"]["humidity"] = {"type": "float", "unit": "%"}
    second_schema["env"]["INTERVAL"] = {"default": 2.5, "type": "float"}
    second = repo.commit(
        "Add humidity\n\nReads the SHT31 next to the thermometer.\nNew env key INTERVAL.",
        {"makerhub.json": second_schema, "main.py": "print('hello again')\n"},
    )
    return repo, first, second
