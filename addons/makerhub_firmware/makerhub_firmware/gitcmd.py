"""Running the ``git`` CLI safely: a fixed environment, fixed config, no prompts.

Every git process the service starts gets the same environment, built here: no system or
global config, no terminal or askpass prompts, hooks disabled, objects checked on fetch,
no submodule recursion, and ``protocol.allow=never`` with only the configured URL schemes
re-allowed. Credentials travel only in environment variables of the one process that needs
them (``http.extraHeader`` through ``GIT_CONFIG_*``, ``GIT_SSH_COMMAND`` for a key file),
never on a command line, in a repository's config or in a log line.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence
import contextlib
from dataclasses import dataclass, field
import logging
import os
from pathlib import Path
import shlex
import signal
import subprocess
from typing import Final

from .errors import UpstreamError

_LOGGER = logging.getLogger(__name__)

GIT_SCHEMES: Final = frozenset({"https", "ssh", "http", "git", "file"})
"""The transports git may be allowed to use; ``ext``, ``fd`` and the rest never are."""
DEFAULT_TIMEOUT: Final = 120.0
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
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
    ("init.defaultBranch", "main"),
    ("advice.detachedHead", "false"),
    ("http.followRedirects", "false"),
    ("uploadpack.allowFilter", "false"),
)
_SSH_OPTIONS: Final = (
    "-F",
    "/dev/null",
    "-o",
    "BatchMode=yes",
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "PasswordAuthentication=no",
    "-o",
    "KbdInteractiveAuthentication=no",
    "-o",
    "ConnectTimeout=20",
)


@dataclass(frozen=True, slots=True)
class GitEnvironment:
    """The environment and fixed configuration of every git process.

    ``allowed_schemes`` is what ``protocol.<scheme>.allow=always`` re-enables; the URL
    checks in :mod:`.urls` refuse everything else before git runs, so this is the second
    lock on the same door.
    """

    home: Path
    allowed_schemes: frozenset[str] = frozenset({"https", "ssh"})
    ssh_program: str = "ssh"
    known_hosts: Path | None = None
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        """Refuse a scheme git must never get."""
        if unknown := self.allowed_schemes - GIT_SCHEMES:
            raise ValueError(f"unsupported git URL schemes: {', '.join(sorted(unknown))}")

    def config(self, extra: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
        """Return the ``-c``-style settings every git process runs with."""
        settings = list(_BASE_CONFIG)
        settings += [
            (f"protocol.{scheme}.allow", "always") for scheme in sorted(self.allowed_schemes)
        ]
        settings += extra
        return settings

    def ssh_command(self, key_file: Path | None = None) -> str:
        """Return ``GIT_SSH_COMMAND``: batch mode, no user config, the key if any.

        Host keys are checked against ``known_hosts``: a file the user maintains, or the
        service's own list that learns a host on first contact (``accept-new``).
        """
        parts = [self.ssh_program, *_SSH_OPTIONS]
        known_hosts = self.known_hosts or self.home / "known_hosts"
        parts += ["-o", f"UserKnownHostsFile={known_hosts}", "-o", "GlobalKnownHostsFile=/dev/null"]
        parts += ["-o", "StrictHostKeyChecking=accept-new"]
        if key_file is not None:
            parts += ["-i", str(key_file)]
        else:
            parts += ["-o", "IdentityFile=/dev/null"]
        return shlex.join(parts)

    def env(
        self,
        extra_config: Sequence[tuple[str, str]] = (),
        *,
        ssh_key_file: Path | None = None,
    ) -> dict[str, str]:
        """Return the complete environment for one git process."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "LANG": "C",
            "LC_ALL": "C",
            "TZ": "UTC",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "/bin/false",
            "SSH_ASKPASS": "/bin/false",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_CONFIG_SYSTEM": "/dev/null",
            "GIT_PROTOCOL_FROM_USER": "0",
            "GIT_NO_REPLACE_OBJECTS": "1",
            "GIT_OPTIONAL_LOCKS": "0",
            "GIT_SSH_COMMAND": self.ssh_command(ssh_key_file),
            "GIT_SSH_VARIANT": "ssh",
        }
        settings = self.config(extra_config)
        env["GIT_CONFIG_COUNT"] = str(len(settings))
        for index, (key, value) in enumerate(settings):
            env[f"GIT_CONFIG_KEY_{index}"] = key
            env[f"GIT_CONFIG_VALUE_{index}"] = value
        return env


@dataclass(slots=True)
class GitResult:
    """What one git process printed."""

    stdout: bytes
    stderr: bytes = field(repr=False)


class GitCommandError(UpstreamError):
    """A git process exited non-zero (the message is git's own, cut short)."""


def error_text(stderr: bytes) -> str:
    """Return git's error output as one short line for a user."""
    text = " ".join(stderr.decode("utf-8", "replace").split())
    return text if len(text) <= MAX_ERROR_TEXT else "…" + text[-MAX_ERROR_TEXT:]


class Git:
    """Runs git commands in the fixed environment, asynchronously."""

    def __init__(self, environment: GitEnvironment) -> None:
        """Use ``environment`` for every command."""
        self.environment = environment

    async def run(
        self,
        args: Sequence[str],
        *,
        git_dir: Path | None = None,
        stdin: bytes | None = None,
        extra_config: Sequence[tuple[str, str]] = (),
        ssh_key_file: Path | None = None,
        time_limit: float | None = None,
        check: bool = True,
    ) -> GitResult:
        """Run ``git [--git-dir=DIR] ARGS`` and return its output.

        Raises :class:`GitCommandError` with git's message on a non-zero exit (when ``check``)
        and on timeout, after killing the process.
        """
        argv = self.argv(args, git_dir)
        env = self.environment.env(extra_config, ssh_key_file=ssh_key_file)
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=str(git_dir or self.environment.home),
            start_new_session=True,
        )
        try:
            async with asyncio.timeout(time_limit or self.environment.timeout):
                stdout, stderr = await process.communicate(stdin)
        except TimeoutError:
            await kill_group(process)
            raise GitCommandError(f"git {args[0]} timed out") from None
        except asyncio.CancelledError:
            await kill_group(process)
            raise
        if check and process.returncode != 0:
            _LOGGER.debug("git %s exited %s", args[0], process.returncode)
            raise GitCommandError(f"git {args[0]} failed: {error_text(stderr)}")
        return GitResult(stdout, stderr)

    async def spawn(
        self,
        args: Sequence[str],
        *,
        git_dir: Path | None = None,
        extra_config: Sequence[tuple[str, str]] = (),
        ssh_key_file: Path | None = None,
    ) -> asyncio.subprocess.Process:
        """Start a git process whose stderr the caller reads (stdout is discarded)."""
        return await asyncio.create_subprocess_exec(
            *self.argv(args, git_dir),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=self.environment.env(extra_config, ssh_key_file=ssh_key_file),
            cwd=str(git_dir or self.environment.home),
            start_new_session=True,
        )

    def popen_cat_file(self, git_dir: Path) -> subprocess.Popen[bytes]:
        """Start ``git cat-file --batch`` for a worker thread to read blobs from.

        The archive builder compresses in a worker thread, where a blocking pipe is the
        natural reader; the environment is the same as every other git process.
        """
        return subprocess.Popen(  # noqa: S603  (fixed argv, no shell)
            self.argv(["cat-file", "--batch"], git_dir),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=self.environment.env(),
            cwd=str(git_dir),
        )

    @staticmethod
    def argv(args: Sequence[str], git_dir: Path | None) -> list[str]:
        """Return the full command line."""
        prefix = ["git", f"--git-dir={git_dir}"] if git_dir is not None else ["git"]
        return [*prefix, *args]


async def kill_group(process: asyncio.subprocess.Process) -> None:
    """Kill git and everything it started (ssh, remote helpers), then reap it.

    Each git runs in its own session: a child such as ssh would otherwise keep the
    pipes open and the process "running" after git itself was killed.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    await process.wait()


def basic_auth_config(username: str, token: str) -> list[tuple[str, str]]:
    """Return the config that sends a token as HTTP basic auth, for one process only."""
    pair = base64.b64encode(f"{username}:{token}".encode()).decode()
    return [("http.extraHeader", f"Authorization: Basic {pair}")]
