"""Cloning a project's repository safely into a staging folder the service owns.

git runs as the service (never as the desktop's user, whose programs could read the
process's environment) with no system or global config, no prompts, hooks disabled,
objects checked, no submodules and only the allowed transports. A credential travels
only in the environment of the one git process (``http.extraHeader`` through
``GIT_CONFIG_*``): never on a command line, in ``.git/config`` or in a message; git's
error text is scrubbed of it before anyone sees it. The checkout is then walked: a
symlink that is absolute or leads out of the workspace refuses the whole clone.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
from pathlib import Path
import shutil
import signal
import subprocess
from typing import Final

from .errors import CloneFailedError, DesktopFailedError, RefusedError
from .validation import CloneUrl

MAX_ERROR_TEXT: Final = 600
_BASE_CONFIG: Final[tuple[tuple[str, str], ...]] = (
    ("protocol.allow", "never"),
    ("core.hooksPath", "/dev/null"),
    ("core.fsmonitor", "false"),
    ("core.askPass", ""),
    ("credential.helper", ""),
    ("transfer.fsckObjects", "true"),
    ("fetch.fsckObjects", "true"),
    ("fetch.recurseSubmodules", "false"),
    ("submodule.recurse", "false"),
    ("init.defaultBranch", "main"),
    ("advice.detachedHead", "false"),
    ("http.followRedirects", "false"),
)


def git_env(
    home: Path, schemes: frozenset[str], credential: str | None, username: str
) -> dict[str, str]:
    """Return the complete environment of one git process."""
    settings = [*_BASE_CONFIG, *((f"protocol.{s}.allow", "always") for s in sorted(schemes))]
    if credential:
        pair = base64.b64encode(f"{username}:{credential}".encode()).decode()
        settings.append(("http.extraHeader", f"Authorization: Basic {pair}"))
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C",
        "LC_ALL": "C",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "/bin/false",
        "SSH_ASKPASS": "/bin/false",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_PROTOCOL_FROM_USER": "0",
        "GIT_SSH_COMMAND": "ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=accept-new",
        "GIT_CONFIG_COUNT": str(len(settings)),
    }
    for index, (key, value) in enumerate(settings):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env


def redact(text: str, secrets: list[str]) -> str:
    """Return ``text`` with every secret (and its base64 header form) replaced."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def error_text(stderr: bytes, secrets: list[str]) -> str:
    """Return git's error output as one short, redacted line."""
    text = redact(" ".join(stderr.decode("utf-8", "replace").split()), secrets)
    return text if len(text) <= MAX_ERROR_TEXT else "…" + text[-MAX_ERROR_TEXT:]


async def clone(
    url: CloneUrl,
    target: Path,
    *,
    home: Path,
    schemes: frozenset[str],
    credential: str | None = None,
    username: str = "x-access-token",
    time_limit: float = 300.0,
) -> None:
    """Clone ``url`` into ``target`` (which must not exist); raise with git's reason.

    On any failure ``target`` is removed again.
    """
    schemes = schemes | ({"file"} if url.scheme == "file" else set())
    env = git_env(home, frozenset(schemes), credential, username)
    pair = base64.b64encode(f"{username}:{credential}".encode()).decode() if credential else ""
    secrets = [s for s in (credential, pair) if s]
    process = await asyncio.create_subprocess_exec(
        "git", "clone", "--no-recurse-submodules", "--", url.url, str(target),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=str(home),
        start_new_session=True,
    )  # fmt: skip
    try:
        async with asyncio.timeout(time_limit):
            _, stderr = await process.communicate()
    except (TimeoutError, asyncio.CancelledError) as err:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
        shutil.rmtree(target, ignore_errors=True)
        if isinstance(err, TimeoutError):
            raise CloneFailedError("git clone timed out") from None
        raise
    if process.returncode != 0:
        shutil.rmtree(target, ignore_errors=True)
        raise CloneFailedError(f"git clone failed: {error_text(stderr, secrets)}")
    try:
        check_symlinks(target)
    except RefusedError:
        shutil.rmtree(target, ignore_errors=True)
        raise


async def init(target: Path, *, home: Path, time_limit: float = 60.0) -> None:
    """Make ``target`` (which must not exist) an empty repository: a workspace without one.

    On any failure ``target`` is removed again.
    """
    env = git_env(home, frozenset(), None, "x-access-token")
    process = await asyncio.create_subprocess_exec(
        "git", "init", "-q", "--", str(target),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=str(home),
        start_new_session=True,
    )  # fmt: skip
    try:
        async with asyncio.timeout(time_limit):
            _, stderr = await process.communicate()
    except (TimeoutError, asyncio.CancelledError):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
        shutil.rmtree(target, ignore_errors=True)
        raise
    if process.returncode != 0:
        shutil.rmtree(target, ignore_errors=True)
        raise DesktopFailedError(f"git init failed: {error_text(stderr, [])}")


def is_fresh_init(root: Path) -> bool:
    """Return whether ``root`` is a folder holding only a ``.git`` with no commit, no ref
    and nothing staged: an empty workspace that may be replaced by a clone.

    Nothing is followed: a symlink anywhere that matters makes it not fresh.
    """
    git_dir = root / ".git"
    if root.is_symlink() or not root.is_dir() or [p.name for p in root.iterdir()] != [".git"]:
        return False
    if git_dir.is_symlink() or not git_dir.is_dir():
        return False
    if any(_exists(git_dir / name) for name in ("index", "packed-refs", "shallow")):
        return False
    for folder in ("objects", "refs"):
        for _, _, files in os.walk(git_dir / folder, followlinks=False):
            if files:
                return False
    return True


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def check_symlinks(root: Path) -> None:
    """Refuse a checkout holding a symlink that is absolute or leads out of ``root``."""
    real_root = Path(os.path.realpath(root))
    for directory, dirs, files in os.walk(root, followlinks=False):
        if Path(directory) == root and ".git" in dirs:
            dirs.remove(".git")
        for name in (*dirs, *files):
            path = Path(directory) / name
            if not path.is_symlink():
                continue
            target = str(path.readlink())
            relative = path.relative_to(root)
            if target.startswith("/"):
                raise RefusedError(f"repository: symlink {relative} is absolute ({target})")
            resolved = Path(os.path.realpath(path))  # follows chains of links, as a program would
            if resolved != real_root and real_root not in resolved.parents:
                raise RefusedError(f"repository: symlink {relative} leads out of the workspace")
