"""The desktops' lifecycle: start on demand, suspend when idle, stop later, survive restarts.

Data folder layout (the folder itself is 0711 so the desktops' users can reach their homes):

    <data>/desktops.json        the records (no credentials)
    <data>/api.token            generated API token (0600), unless one is configured
    <data>/homes/<project>/     a desktop's home (0700, its user's); workspace/ is the clone
                                (an empty ``git init`` for a project without a repository)
    <data>/run/<project>/       its run folder (0700): Xvnc's RFB socket
    <data>/logs/<project>.log   what its programs print
    <data>/staging/             clones in progress (0700, the service's)

Idle time is measured on an injectable :class:`~.clock.Clock`; :meth:`DesktopManager.tick`
applies it (a background task calls it every few seconds, tests call it directly).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import contextlib
from dataclasses import dataclass, field
import logging
import os
from pathlib import Path
import secrets
import shutil
import signal
from typing import Any

from . import accounts
from .accounts import Account
from .clock import Clock
from .errors import (
    ConflictError,
    DesktopError,
    DesktopFailedError,
    NoCapacityError,
    UnknownProjectError,
)
from .gitclone import clone, init, is_fresh_init
from .session import APPS, DesktopPaths, Session, start_session
from .settings import Settings
from .store import DesktopRecord, DesktopStore, State
from .tokens import ConnectTokens, Role
from .validation import CloneUrl, check_project_id, parse_clone_url

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RepositorySpec:
    """The repository a desktop's workspace is cloned from; the credential is used once."""

    url: str
    credential: str | None = field(default=None, repr=False)
    username: str = "x-access-token"


@dataclass
class Desktop:
    """A desktop: its record and what only lives while the service runs."""

    record: DesktopRecord
    paths: DesktopPaths
    account: Account | None = None
    session: Session | None = None
    controllers: int = 0
    viewers: int = 0
    dropped_input: int = 0
    """Viewers' input messages the proxy dropped since the service started."""

    @property
    def project(self) -> str:
        """The project's id."""
        return self.record.project

    @property
    def connections(self) -> int:
        """How many clients are connected."""
        return self.controllers + self.viewers

    def to_api(self) -> dict[str, Any]:
        """Return the API's view."""
        record = self.record
        return {
            "project": record.project,
            "state": record.state.value,
            "viewers": self.viewers,
            "controllers": self.controllers,
            "dropped_input": self.dropped_input,
            "user": record.user,
            "repository": record.url,
            "display": record.display,
            "last_active": record.last_active,
            "scratch_expires": record.scratch_expires,
            "error": record.error,
        }


class DesktopManager:
    """Every desktop, and the rules of when each runs."""

    def __init__(
        self, settings: Settings, clock: Clock, apps: tuple[tuple[str, ...], ...] = APPS
    ) -> None:
        """Use ``settings``' data folder; nothing is touched before :meth:`start`."""
        self.settings = settings
        self.clock = clock
        self.apps = apps
        data = settings.data_dir
        self.homes = data / "homes"
        self.run = data / "run"
        self.logs = data / "logs"
        self.staging = data / "staging"
        self.store = DesktopStore(data / "desktops.json")
        self.tokens = ConnectTokens(clock, settings.token_ttl)
        self.desktops: dict[str, Desktop] = {}
        self._lock = asyncio.Lock()
        self._clone_locks: dict[str, asyncio.Lock] = {}

    # --- service life cycle -----------------------------------------------------------

    async def start(self) -> None:
        """Prepare the folders, load the records, adopt or clean up what still runs."""
        data = self.settings.data_dir
        for parent in data.resolve().parents:
            if not parent.stat().st_mode & 0o001:
                raise DesktopFailedError(
                    f"{parent} is closed to other users (no o+x): the desktops' users could "
                    f"not reach their homes in {data}"
                )
        data.chmod(0o711)
        for folder, mode in ((self.homes, 0o711), (self.run, 0o711), (self.logs, 0o700)):
            folder.mkdir(exist_ok=True)
            folder.chmod(mode)
        shutil.rmtree(self.staging, ignore_errors=True)
        self.staging.mkdir(mode=0o700)
        (self.staging / ".home").mkdir(mode=0o700)
        for project, record in self.store.load().items():
            desktop = Desktop(record, self._paths(project), accounts.lookup(record.user))
            self.desktops[project] = desktop
            await asyncio.to_thread(self._adopt_or_clean, desktop)
        self._save()

    def _adopt_or_clean(self, desktop: Desktop) -> None:
        """Keep a desktop whose Xvnc outlived the service; otherwise end its leftovers."""
        record, account = desktop.record, desktop.account
        pid = record.xvnc_pid
        if (
            account is not None
            and pid is not None
            and record.state in {State.RUNNING, State.SUSPENDED}
            and _is_xvnc_of(pid, account.uid)
            and desktop.paths.socket.exists()
        ):
            record.state = State.SUSPENDED if accounts.is_stopped(pid) else State.RUNNING
            record.last_active = self.clock.now()
            desktop.session = Session(display=record.display or -1, xvnc_pid=pid)
            _LOGGER.info("adopted the running desktop of %s", record.project)
            return
        if account is not None:
            accounts.kill_all(account.uid)
        if record.state is not State.ERROR:
            record.state = State.STOPPED
        record.display = record.xvnc_pid = None

    async def close(self) -> None:
        """Save the records; desktops keep running, the next start adopts them."""
        async with self._lock:
            self._save()

    async def shutdown_all(self) -> None:
        """Stop every desktop (tests, and ``--stop-desktops-on-exit``)."""
        async with self._lock:
            for desktop in self.desktops.values():
                await self._stop(desktop)
            self._save()

    # --- queries ----------------------------------------------------------------------

    def get(self, project: str) -> Desktop:
        """Return the desktop of ``project``."""
        check_project_id(project)
        desktop = self.desktops.get(project)
        if desktop is None:
            raise UnknownProjectError(f"no desktop for project {project}")
        return desktop

    def _paths(self, project: str) -> DesktopPaths:
        return DesktopPaths(home=self.homes / project, run=self.run / project)

    def _save(self) -> None:
        self.store.save({p: d.record for p, d in self.desktops.items()})

    # --- start, suspend, resume, stop -------------------------------------------------

    def check_repository(self, spec: RepositorySpec) -> CloneUrl:
        """Return the checked clone URL of ``spec`` (refused before anything is touched)."""
        return parse_clone_url(
            spec.url,
            self.settings.allowed_schemes,
            self.settings.allowed_roots,
            forbidden_roots=(self.settings.data_dir,),
        )

    async def ensure_running(
        self,
        project: str,
        repository: RepositorySpec | None = None,
        scratch_ttl: float | None = None,
    ) -> Desktop:
        """Start (cloning on first start), resume, or just touch the project's desktop.

        A first start without a repository makes an empty workspace (``git init``); a
        later start with one clones into it while it is still that empty repository.
        """
        check_project_id(project)
        url = self.check_repository(repository) if repository is not None else None
        lock = self._clone_locks.setdefault(project, asyncio.Lock())
        async with lock:
            desktop = self.desktops.get(project)
            if desktop is None:
                desktop = await self._create(project, url, repository)
            elif url is not None and not _exists(desktop.paths.workspace):
                await self._clone_workspace(desktop, url, repository)
            elif url is not None and desktop.record.url is None:
                await self._replace_empty_workspace(desktop, url, repository)
        async with self._lock:
            if scratch_ttl is not None:
                desktop.record.scratch_ttl = scratch_ttl
            await self._run(desktop)
            desktop.record.last_active = self.clock.now()
            self._save()
        return desktop

    async def _create(
        self, project: str, url: CloneUrl | None, spec: RepositorySpec | None
    ) -> Desktop:
        """Clone (or ``git init``) first (a failure leaves nothing behind), then the user
        and the home."""
        if url is not None and spec is not None:
            staged = await self._stage_clone(project, url, spec)
        else:
            staged = self._staging_path(project)
            await init(staged, home=self.staging / ".home", time_limit=self.settings.git_timeout)
        try:
            user = f"{self.settings.user_prefix}{project}"
            paths = self._paths(project)
            account = await asyncio.to_thread(accounts.ensure_account, user, paths.home)
            await asyncio.to_thread(self._make_home, paths, account)
            await asyncio.to_thread(_chown_tree, staged, account)
            staged.rename(paths.workspace)
        finally:
            shutil.rmtree(staged, ignore_errors=True)
        record = DesktopRecord(
            project=project, user=user, url=url.url if url else None, uid=account.uid
        )
        desktop = Desktop(record, paths, account)
        self.desktops[project] = desktop
        async with self._lock:
            self._save()
        _LOGGER.info("created the desktop of %s (user %s)", project, user)
        return desktop

    async def _clone_workspace(
        self, desktop: Desktop, url: CloneUrl, spec: RepositorySpec | None
    ) -> None:
        """Clone again into a home whose workspace was deleted (an existing one is kept)."""
        assert spec is not None
        staged = await self._stage_clone(desktop.project, url, spec)
        try:
            account = await asyncio.to_thread(self._account, desktop)
            await asyncio.to_thread(_chown_tree, staged, account)
            try:
                staged.rename(desktop.paths.workspace)
            except OSError as err:
                raise DesktopFailedError(
                    f"the workspace could not be put in place: {err}"
                ) from None
            desktop.record.url = url.url
        finally:
            shutil.rmtree(staged, ignore_errors=True)

    async def _replace_empty_workspace(
        self, desktop: Desktop, url: CloneUrl, spec: RepositorySpec | None
    ) -> None:
        """Put a clone in place of the empty workspace of a desktop made without a
        repository; a workspace with anything in it is kept as it is.

        The old workspace is moved into the staging folder (out of its user's reach)
        before it is looked at, so nothing can change between the look and the delete.
        """
        assert spec is not None
        staged = await self._stage_clone(desktop.project, url, spec)
        aside = self._staging_path(desktop.project)
        replaced = False
        try:
            account = await asyncio.to_thread(self._account, desktop)
            workspace = desktop.paths.workspace
            workspace.rename(aside)
            if not await asyncio.to_thread(is_fresh_init, aside):
                await asyncio.to_thread(_put_back, aside, workspace)
                _LOGGER.info(
                    "kept the workspace of %s (it has work in it); not cloning %s",
                    desktop.project,
                    url.url,
                )
                return
            await asyncio.to_thread(_chown_tree, staged, account)
            staged.rename(workspace)
            replaced = True
            desktop.record.url = url.url
            _LOGGER.info("cloned %s into the empty workspace of %s", url.url, desktop.project)
        except OSError as err:
            raise DesktopFailedError(f"the workspace could not be put in place: {err}") from None
        finally:
            shutil.rmtree(staged, ignore_errors=True)
            if replaced:
                shutil.rmtree(aside, ignore_errors=True)

    def _staging_path(self, project: str) -> Path:
        return self.staging / f"{project}-{secrets.token_hex(4)}"

    async def _stage_clone(self, project: str, url: CloneUrl, spec: RepositorySpec) -> Path:
        staged = self._staging_path(project)
        await clone(
            url,
            staged,
            home=self.staging / ".home",
            schemes=self.settings.allowed_schemes,
            credential=spec.credential,
            username=spec.username,
            time_limit=self.settings.git_timeout,
        )
        return staged

    @staticmethod
    def _make_home(paths: DesktopPaths, account: Account) -> None:
        for folder in (paths.home, paths.run):
            folder.mkdir(mode=0o700, exist_ok=True)
            os.chown(folder, account.uid, account.gid)
            folder.chmod(0o700)

    async def _run(self, desktop: Desktop) -> None:
        """Make ``desktop`` running (under the lock): resume, or start its programs."""
        record = desktop.record
        if record.state in {State.RUNNING, State.SUSPENDED} and not self._alive(desktop):
            _LOGGER.warning("the Xvnc of %s is gone; starting it again", desktop.project)
            await self._stop(desktop)
        if record.state is State.RUNNING:
            return
        await self._make_room(desktop)
        if record.state is State.SUSPENDED:
            account = self._account(desktop)
            await asyncio.to_thread(accounts.signal_all, account.uid, signal.SIGCONT)
            record.state = State.RUNNING
            _LOGGER.info("resumed the desktop of %s", desktop.project)
            return
        account = self._account(desktop)
        await asyncio.to_thread(self._make_home, desktop.paths, account)
        await asyncio.to_thread(accounts.kill_all, account.uid)
        self._prepare_scratch(desktop, account)
        record.state = State.STARTING
        try:
            desktop.session = await start_session(
                account, desktop.paths, self.logs / f"{desktop.project}.log", self.apps
            )
        except DesktopError as err:
            record.state, record.error = State.ERROR, err.message
            self._save()
            raise
        record.state, record.error = State.RUNNING, None
        record.display = desktop.session.display
        record.xvnc_pid = desktop.session.xvnc_pid
        _LOGGER.info("started the desktop of %s on :%s", desktop.project, record.display)

    def _account(self, desktop: Desktop) -> Account:
        if desktop.account is None:
            desktop.account = accounts.lookup(desktop.record.user)
        if desktop.account is None:
            home = desktop.paths.home
            desktop.account = accounts.ensure_account(desktop.record.user, home, desktop.record.uid)
            if desktop.account.uid != desktop.record.uid:
                _chown_tree(home, desktop.account)
                desktop.record.uid = desktop.account.uid
            _LOGGER.info("created the user %s again", desktop.record.user)
        return desktop.account

    def _prepare_scratch(self, desktop: Desktop, account: Account) -> None:
        record = desktop.record
        if record.scratch_ttl is None:
            return
        scratch = desktop.paths.scratch
        if not scratch.is_dir():
            scratch.mkdir(mode=0o700)
            os.chown(scratch, account.uid, account.gid)
            record.scratch_expires = self.clock.now() + record.scratch_ttl

    def _alive(self, desktop: Desktop) -> bool:
        pid = desktop.record.xvnc_pid
        account = desktop.account
        return pid is not None and account is not None and _is_xvnc_of(pid, account.uid)

    async def _make_room(self, desktop: Desktop) -> None:
        """Suspend (or stop) the least recently used idle desktops to fit the limits."""
        others = [d for d in self.desktops.values() if d is not desktop]
        running = [d for d in others if d.record.state is State.RUNNING]
        if len(running) >= self.settings.max_running:
            idle = sorted((d for d in running if not d.connections), key=_last_active)
            if len(running) - len(idle) >= self.settings.max_running:
                raise NoCapacityError(
                    f"all {self.settings.max_running} running desktops have clients connected"
                )
            for victim in idle[: len(running) - self.settings.max_running + 1]:
                await self._suspend(victim)
        if desktop.record.state is State.SUSPENDED:
            return
        started = [d for d in others if d.record.state in {State.RUNNING, State.SUSPENDED}]
        if len(started) >= self.settings.max_desktops:
            idle = sorted((d for d in started if not d.connections), key=_last_active)
            if len(started) - len(idle) >= self.settings.max_desktops:
                raise NoCapacityError(
                    f"all {self.settings.max_desktops} started desktops have clients connected"
                )
            for victim in idle[: len(started) - self.settings.max_desktops + 1]:
                await self._stop(victim)

    async def _suspend(self, desktop: Desktop) -> None:
        if desktop.record.state is not State.RUNNING:
            return
        account = self._account(desktop)
        await asyncio.to_thread(accounts.stop_all, account.uid)
        desktop.record.state = State.SUSPENDED
        _LOGGER.info("suspended the desktop of %s", desktop.project)

    async def _stop(self, desktop: Desktop) -> None:
        record = desktop.record
        if desktop.account is not None:
            await asyncio.to_thread(accounts.kill_all, desktop.account.uid)
        if desktop.session is not None:
            await desktop.session.reap()
            desktop.session = None
        if record.state is not State.STOPPED:
            _LOGGER.info("stopped the desktop of %s", desktop.project)
        record.state = State.STOPPED
        record.display = record.xvnc_pid = None

    async def stop(self, project: str) -> Desktop:
        """Stop the project's desktop (its home and workspace are kept)."""
        desktop = self.get(project)
        async with self._lock:
            self.tokens.revoke_project(project)
            await self._stop(desktop)
            self._save()
        return desktop

    async def suspend(self, project: str) -> Desktop:
        """Suspend the project's desktop now."""
        desktop = self.get(project)
        async with self._lock:
            await self._suspend(desktop)
            self._save()
        return desktop

    async def forget(self, project: str) -> None:
        """Stop the desktop and delete its user, home and workspace."""
        desktop = self.get(project)
        async with self._lock:
            self.tokens.revoke_project(project)
            await self._stop(desktop)
            await asyncio.to_thread(accounts.remove_account, desktop.record.user)
            shutil.rmtree(desktop.paths.home, ignore_errors=True)
            shutil.rmtree(desktop.paths.run, ignore_errors=True)
            del self.desktops[project]
            self._save()

    # --- connections ------------------------------------------------------------------

    def check_can_attach(self, desktop: Desktop, role: Role) -> None:
        """Refuse a second controller before its token is used up."""
        if role is Role.CONTROLLER and desktop.controllers:
            raise ConflictError(f"a controller is already connected to {desktop.project}")

    async def attach(self, project: str, role: Role) -> Desktop:
        """Count a new client in, starting or resuming the desktop first."""
        desktop = self.get(project)
        async with self._lock:
            self.check_can_attach(desktop, role)
            await self._run(desktop)
            if role is Role.CONTROLLER:
                desktop.controllers += 1
            else:
                desktop.viewers += 1
            desktop.record.last_active = self.clock.now()
            self._save()
        return desktop

    def detach(self, desktop: Desktop, role: Role) -> None:
        """Count a client out; the idle time starts now."""
        if role is Role.CONTROLLER:
            desktop.controllers = max(0, desktop.controllers - 1)
        else:
            desktop.viewers = max(0, desktop.viewers - 1)
        desktop.record.last_active = self.clock.now()

    # --- time -------------------------------------------------------------------------

    async def tick(self) -> None:
        """Apply the idle rules and the scratch TTL at the clock's current time."""
        async with self._lock:
            now = self.clock.now()
            for desktop in self.desktops.values():
                record = desktop.record
                if record.state in {State.RUNNING, State.SUSPENDED} and not self._alive(desktop):
                    _LOGGER.warning("the Xvnc of %s is gone", desktop.project)
                    await self._stop(desktop)
                if desktop.connections:
                    record.last_active = now
                    continue
                idle = now - record.last_active
                if record.state in {State.RUNNING, State.SUSPENDED}:
                    if idle >= self.settings.stop_after:
                        await self._stop(desktop)
                    elif idle >= self.settings.suspend_after:
                        await self._suspend(desktop)
                if record.scratch_expires is not None and record.scratch_expires <= now:
                    shutil.rmtree(desktop.paths.scratch, ignore_errors=True)
                    record.scratch_expires = None
                    _LOGGER.info("deleted the scratch folder of %s", desktop.project)
            self._save()

    def counts(self) -> dict[str, int]:
        """Desktops by state."""
        counts = {state.value: 0 for state in State}
        for desktop in self.desktops.values():
            counts[desktop.record.state.value] += 1
        return counts

    def __iter__(self) -> Iterator[Desktop]:
        """Iterate over the desktops."""
        return iter(self.desktops.values())


def _exists(path: Path) -> bool:
    """Return whether anything is at ``path`` (a dangling symlink counts)."""
    return path.exists() or path.is_symlink()


def _put_back(aside: Path, workspace: Path) -> None:
    """Move a workspace that was set aside back (next to it if its place was taken)."""
    try:
        aside.rename(workspace)
    except OSError:
        kept = workspace.with_name(f"{workspace.name}-{secrets.token_hex(4)}")
        aside.rename(kept)
        _LOGGER.warning("%s was taken again; the workspace is kept as %s", workspace, kept)


def _last_active(desktop: Desktop) -> float:
    return desktop.record.last_active


def _is_xvnc_of(pid: int, uid: int) -> bool:
    """Return whether ``pid`` is a live Xvnc of ``uid``."""
    try:
        if Path(f"/proc/{pid}").stat().st_uid != uid:
            return False
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0]
    except OSError:
        return False
    return command.rsplit(b"/", 1)[-1] == b"Xvnc" and not _zombie(pid)


def _zombie(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    return True


def _chown_tree(root: Path, account: Account) -> None:
    """Give ``root`` and everything in it to ``account`` (symlinks themselves, not targets)."""
    os.chown(root, account.uid, account.gid, follow_symlinks=False)
    for directory, dirs, files in os.walk(root, followlinks=False):
        for name in (*dirs, *files):
            os.chown(Path(directory) / name, account.uid, account.gid, follow_symlinks=False)
