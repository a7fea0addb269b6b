"""Cloning and fetching a repository: credentials, size limit, all-or-nothing updates.

The clone is a bare repository at ``<data>/repositories/<id>`` with no remote in its
config: the URL is given on each fetch, and credentials only to that one process. The
first clone happens in a staging directory that is moved into place only when it
succeeded and fits the size limit. A later fetch that makes the repository too large is
undone: refs are put back as they were and the new objects are pruned.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
import logging
import os
from pathlib import Path
import secrets
import shutil
import tempfile
from typing import Final

from .errors import RefusedError, TooLargeError
from .gitcmd import Git, GitCommandError, basic_auth_config, error_text, kill_group
from .repository import GitRepository
from .vendor.secret_box import write_private_file

_LOGGER = logging.getLogger(__name__)

FETCH_REFSPECS: Final = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
WATCH_INTERVAL: Final = 0.1
MAX_SSH_KEY: Final = 16 * 1024


@dataclass(frozen=True, slots=True)
class Credentials:
    """Decrypted credentials for one git process; never logged or stored in clear."""

    token: str | None = None
    username: str | None = None
    ssh_key: str | None = None

    def __repr__(self) -> str:
        """Hide the values."""
        return "Credentials(<redacted>)"


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    """What a successful sync found."""

    default_branch: str | None
    size: int


def check_ssh_key(key: object) -> str:
    """Return a private key in OpenSSH/PEM text form, or refuse it."""
    if not isinstance(key, str) or len(key) > MAX_SSH_KEY:
        raise RefusedError(
            f"ssh_key: a private key in OpenSSH or PEM format, at most {MAX_SSH_KEY} bytes"
        )
    text = key.replace("\r\n", "\n").strip() + "\n"
    first = text.split("\n", 1)[0]
    if not (first.startswith("-----BEGIN ") and "PRIVATE KEY-----" in first):
        raise RefusedError("ssh_key: must start with a '-----BEGIN … PRIVATE KEY-----' line")
    return text


class Syncer:
    """Clones and fetches repositories into the data directory."""

    def __init__(self, git: Git, repositories: Path, temp: Path) -> None:
        """Clone under ``repositories``; stage and keep key files under ``temp``."""
        self.git = git
        self.repositories = repositories
        self.temp = temp

    def path(self, repo_id: str) -> Path:
        """Return where a repository's clone lives."""
        return self.repositories / repo_id

    @asynccontextmanager
    async def _auth(
        self, credentials: Credentials
    ) -> AsyncIterator[tuple[list[tuple[str, str]], Path | None]]:
        """Yield the extra config and key file for one process; remove the key after."""
        if credentials.ssh_key is None:
            config = []
            if credentials.token is not None:
                user = credentials.username or "x-access-token"
                config = basic_auth_config(user, credentials.token)
            yield config, None
            return
        directory = Path(tempfile.mkdtemp(prefix="ssh-", dir=self.temp))
        key_file = directory / "key"
        try:
            write_private_file(key_file, credentials.ssh_key.encode())
            yield [], key_file
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    async def sync(
        self, repo_id: str, url: str, credentials: Credentials, size_limit: int
    ) -> SyncOutcome:
        """Clone or fetch; raise with the reason (and change nothing) when it fails."""
        target = self.path(repo_id)
        if (target / "HEAD").is_file():
            return await self._fetch_existing(target, url, credentials, size_limit)
        staging = self.temp / f"clone-{repo_id}-{secrets.token_hex(4)}"
        try:
            await self.git.run(["init", "--bare", "--quiet", "--", str(staging)])
            outcome = await self._fetch(staging, url, credentials, size_limit)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return outcome

    async def _fetch_existing(
        self, target: Path, url: str, credentials: Credentials, size_limit: int
    ) -> SyncOutcome:
        repository = GitRepository(self.git, target)
        before = (
            await self.git.run(
                ["for-each-ref", "--format=%(objectname) %(refname)"], git_dir=target
            )
        ).stdout
        try:
            return await self._fetch(target, url, credentials, size_limit)
        except TooLargeError:
            await self._restore_refs(repository, before)
            raise

    async def _restore_refs(self, repository: GitRepository, before: bytes) -> None:
        """Put every ref back as it was and drop the objects the fetch brought."""
        old: dict[str, str] = {}
        for line in before.decode().split("\n"):
            if line:
                oid, _, ref = line.partition(" ")
                old[ref] = oid
        now = (
            (await self.git.run(["for-each-ref", "--format=%(refname)"], git_dir=repository.path))
            .stdout.decode()
            .split()
        )
        commands = [f"delete {ref}\n" for ref in now if ref not in old]
        commands += [f"update {ref} {oid}\n" for ref, oid in old.items()]
        await self.git.run(
            ["update-ref", "--no-deref", "--stdin"],
            git_dir=repository.path,
            stdin="".join(commands).encode(),
        )
        await self.git.run(["reflog", "expire", "--expire=now", "--all"], git_dir=repository.path)
        await self.git.run(["gc", "--quiet", "--prune=now"], git_dir=repository.path)

    async def _fetch(
        self, git_dir: Path, url: str, credentials: Credentials, size_limit: int
    ) -> SyncOutcome:
        async with self._auth(credentials) as (config, key_file):
            process = await self.git.spawn(
                [
                    "fetch",
                    "--prune",
                    "--no-tags",
                    "--no-write-fetch-head",
                    "--no-recurse-submodules",
                    "--quiet",
                    "--",
                    url,
                    *FETCH_REFSPECS,
                ],
                git_dir=git_dir,
                extra_config=config,
                ssh_key_file=key_file,
            )
            stderr = await self._wait_within_limit(process, git_dir, size_limit)
            if process.returncode != 0:
                raise GitCommandError(f"git fetch failed: {error_text(stderr)}")
            head = await self.git.run(
                ["ls-remote", "--symref", "--", url, "HEAD"],
                extra_config=config,
                ssh_key_file=key_file,
            )
        default_branch = _symref_branch(head.stdout)
        if default_branch is not None:
            await self.git.run(
                ["symbolic-ref", "HEAD", f"refs/heads/{default_branch}"], git_dir=git_dir
            )
        size = await GitRepository(self.git, git_dir).size()
        if size > size_limit:
            raise TooLargeError(
                f"repository is {size} bytes, over its size limit of {size_limit} bytes"
            )
        return SyncOutcome(default_branch, size)

    async def _wait_within_limit(
        self, process: asyncio.subprocess.Process, git_dir: Path, size_limit: int
    ) -> bytes:
        """Wait for git, killing it as soon as the objects it writes pass the limit."""
        assert process.stderr is not None
        stderr_task = asyncio.ensure_future(process.stderr.read())
        try:
            async with asyncio.timeout(self.git.environment.timeout):
                while process.returncode is None:
                    if _tree_size(git_dir / "objects") > size_limit:
                        await kill_group(process)
                        _remove_temporary_packs(git_dir)
                        raise TooLargeError(
                            f"repository is over its size limit of {size_limit} bytes "
                            "(fetch stopped)"
                        )
                    try:
                        await asyncio.wait_for(process.wait(), WATCH_INTERVAL)
                    except TimeoutError:
                        continue
        except TimeoutError:
            await kill_group(process)
            _remove_temporary_packs(git_dir)
            raise GitCommandError("git fetch timed out") from None
        finally:
            if process.returncode is None:
                await kill_group(process)
            stderr = await stderr_task
        return stderr

    def remove(self, repo_id: str) -> None:
        """Delete a repository's clone."""
        shutil.rmtree(self.path(repo_id), ignore_errors=True)


def _symref_branch(output: bytes) -> str | None:
    for line in output.decode("utf-8", "replace").splitlines():
        if line.startswith("ref: refs/heads/") and line.endswith("\tHEAD"):
            return line[len("ref: refs/heads/") : -len("\tHEAD")]
    return None


def _tree_size(root: Path) -> int:
    total = 0
    for directory, _, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(directory, name)).st_size  # noqa: PTH118
            except FileNotFoundError:
                continue
    return total


def _remove_temporary_packs(git_dir: Path) -> None:
    for leftover in (git_dir / "objects" / "pack").glob("tmp_*"):
        leftover.unlink(missing_ok=True)
    for leftover in (git_dir / "objects").glob("incoming-*"):
        shutil.rmtree(leftover, ignore_errors=True)
