"""Over-the-air updates on the unit: an A/B installation root that never bricks.

An installation is a directory ``ROOT``::

    ROOT/versions/<version>/   one unpacked firmware archive per version
    ROOT/current               symlink -> versions/<version>, switched atomically
    ROOT/state.json            previous version, pending update, last rollback
    ROOT/tmp/                  downloads and half-unpacked archives (same file system)
    ROOT/.lock                 flock(2) guarding state.json and the switch

:class:`UpdateManager` applies an ``update`` command (download, check size and sha256,
unpack with :mod:`.unpack`'s protections, move into ``versions/``, record the update as
*pending*, switch ``current``) and keeps the record: the new version **confirms** itself
once it is online (pending cleared, the previous version kept for one more update, older
ones pruned), or the launcher (:mod:`.launcher`) **rolls back** to the previous version
when it crashes or does not confirm in time. Every step that changes what runs holds the
lock, so a confirmation and a rollback can never both win.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping
import contextlib
from dataclasses import asdict, dataclass, replace
import io
import json
import logging
import os
from pathlib import Path
import re
import secrets
import shlex
import shutil
import sys
import threading
import time
from typing import Any, Final, Protocol, TypeVar
from urllib.error import HTTPError, URLError
from urllib.parse import urljoin, urlsplit
import urllib.request

from .commands import UpdateRequest
from .unpack import UnpackLimits, UnpackResult, UpdateError, unpack, verify_and_unpack

__all__ = [
    "DEFAULT_WINDOW",
    "ENV_RESTART_CODE",
    "ENV_ROOT",
    "ENV_RUN_VERSION",
    "RESTART_EXIT_CODE",
    "InstallState",
    "PendingUpdate",
    "Rollback",
    "UpdateError",
    "UpdateManager",
    "download",
    "entry_command",
    "fetch",
    "verify_and_unpack",
]

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

RESTART_EXIT_CODE: Final = 75
"""Exit code of a unit program asking its launcher to start ``current`` again (EX_TEMPFAIL)."""
ENV_ROOT: Final = "MH_ROOT"
"""Process environment variable: the installation root the launcher runs the unit from."""
ENV_RUN_VERSION: Final = "MH_RUN_VERSION"
"""Process environment variable: the version directory the launcher started."""
ENV_RESTART_CODE: Final = "MH_RESTART_EXIT_CODE"
"""Process environment variable: the exit code that asks for a restart (``75``)."""
DEFAULT_WINDOW: Final = 60.0
"""Seconds a new version has to start, connect and confirm before it is rolled back."""
VERSION_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
STATE_FILE: Final = "state.json"
CURRENT_LINK: Final = "current"
VERSIONS_DIR: Final = "versions"
TMP_DIR: Final = "tmp"
LOCK_FILE: Final = ".lock"
DOWNLOAD_TIMEOUT: Final = 300.0
CONNECT_TIMEOUT: Final = 15.0
MAX_REDIRECTS: Final = 5
MAX_ERROR_TEXT: Final = 1000
PYTHON_NAMES: Final = frozenset({"python", "python3"})


# --- HTTP ------------------------------------------------------------------------------


class _Sink(Protocol):
    def write(self, data: bytes, /) -> object: ...


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follow at most a few redirects, and only to the same scheme, host and port."""

    max_redirections = MAX_REDIRECTS

    def redirect_request(  # noqa: PLR0917  (the base class's signature)
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        old, new = urlsplit(req.full_url), urlsplit(urljoin(req.full_url, newurl))
        if (old.scheme, old.hostname, old.port) != (new.scheme, new.hostname, new.port):
            raise UpdateError(
                f"download: redirect from {old.scheme}://{old.netloc} to another host "
                f"({new.scheme}://{new.netloc}) refused"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_SameOriginRedirects())


def _http_get(
    url: str,
    dest: _Sink,
    max_size: int,
    *,
    headers: Mapping[str, str] | None,
    timeout: float,
    connect_timeout: float,
    cancelled: threading.Event,
    what: str,
) -> int:
    """GET ``url`` into ``dest``; return the byte count. Runs on a worker thread."""
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise UpdateError(f"{what}: only http(s) URLs, not {scheme or 'none'!r}")
    request = urllib.request.Request(url, headers=dict(headers or {}))  # noqa: S310
    deadline = time.monotonic() + timeout
    try:
        with _opener().open(request, timeout=connect_timeout) as response:
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) > max_size:
                raise UpdateError(
                    f"{what}: size mismatch: the server sends {int(length)} bytes, "
                    f"expected at most {max_size}"
                )
            received = 0
            while chunk := response.read1(64 * 1024):
                if cancelled.is_set():
                    raise UpdateError(f"{what}: cancelled")
                received += len(chunk)
                if received > max_size:
                    raise UpdateError(
                        f"{what}: size mismatch: more than the expected {max_size} bytes"
                    )
                dest.write(chunk)
                if time.monotonic() > deadline:
                    raise UpdateError(f"{what}: timed out after {timeout:g} s")
            return received
    except HTTPError as err:
        raise UpdateError(f"{what}: HTTP {err.code} {err.reason}") from None
    except URLError as err:
        if isinstance(err.reason, UpdateError):
            raise err.reason from None
        raise UpdateError(f"{what}: {err.reason}") from None
    except TimeoutError:
        raise UpdateError(f"{what}: timed out (no data for {connect_timeout:g} s)") from None
    except OSError as err:
        raise UpdateError(f"{what}: {err}") from None


async def _in_thread(  # noqa: UP047  (the SDK supports Python 3.11)
    function: Callable[..., _T], *args: Any, **kwargs: Any
) -> _T:
    """Run blocking HTTP on a worker thread; cancelling the task stops it at the next chunk."""
    cancelled = threading.Event()
    try:
        return await asyncio.to_thread(function, *args, cancelled=cancelled, **kwargs)
    except asyncio.CancelledError:
        cancelled.set()
        raise


async def download(
    url: str,
    dest: Path,
    max_size: int,
    *,
    timeout: float = DOWNLOAD_TIMEOUT,  # noqa: ASYNC109  (bounds a worker thread)
    connect_timeout: float = CONNECT_TIMEOUT,
    headers: Mapping[str, str] | None = None,
) -> int:
    """Download ``url`` to ``dest`` (created or replaced); return the byte count.

    Refuses more than ``max_size`` bytes (announced or received), redirects to another
    scheme, host or port, and takes at most ``timeout`` seconds in all and
    ``connect_timeout`` seconds per network wait. Raises :class:`UpdateError`; on failure
    ``dest`` is removed.
    """

    def run(*, cancelled: threading.Event) -> int:
        with dest.open("wb") as file:
            count = _http_get(
                url,
                file,
                max_size,
                headers=headers,
                timeout=timeout,
                connect_timeout=connect_timeout,
                cancelled=cancelled,
                what="download",
            )
            file.flush()
            os.fsync(file.fileno())
        return count

    try:
        return await _in_thread(run)
    except BaseException:
        await asyncio.to_thread(dest.unlink, True)
        raise


async def fetch(
    url: str,
    *,
    token: str | None = None,
    max_size: int = 1024 * 1024,
    timeout: float = 30.0,  # noqa: ASYNC109  (bounds a worker thread)
) -> bytes:
    """GET a small document (``env.json``, ``schema.json``) with ``Bearer`` auth."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    buffer = io.BytesIO()
    await _in_thread(
        _http_get,
        url,
        buffer,
        max_size,
        headers=headers,
        timeout=timeout,
        connect_timeout=min(timeout, CONNECT_TIMEOUT),
        what=f"GET {url}",
    )
    return buffer.getvalue()


# --- how a version starts ----------------------------------------------------------------


def entry_command(version_dir: Path, python: str | None = None) -> list[str]:
    """Return the command line that runs the unit program of ``version_dir``.

    ``"run"`` in the version's ``makerhub.json`` (a list of strings, or one string split
    like a shell would) wins; otherwise ``python main.py``. A leading ``python`` or
    ``python3`` means the launcher's own interpreter. Raises :class:`UpdateError`.
    """
    python = python or sys.executable
    declared: Any = None
    manifest = version_dir / "makerhub.json"
    if manifest.is_file():
        try:
            document = json.loads(manifest.read_text(encoding="utf-8"))
        except (ValueError, OSError) as err:
            raise UpdateError(f"makerhub.json: not valid JSON ({err})") from None
        if isinstance(document, Mapping):
            declared = document.get("run")
    if declared is not None:
        if isinstance(declared, str):
            argv = shlex.split(declared)
        elif isinstance(declared, list) and all(isinstance(arg, str) for arg in declared):
            argv = list(declared)
        else:
            raise UpdateError('makerhub.json: "run" must be a string or a list of strings')
        if not argv or not argv[0]:
            raise UpdateError('makerhub.json: "run" is empty')
        if argv[0] in PYTHON_NAMES:
            argv[0] = python
        return argv
    if (version_dir / "main.py").is_file():
        return [python, "main.py"]
    raise UpdateError('no main.py, and makerhub.json declares no "run" command')


# --- the installation state ----------------------------------------------------------------


@dataclass(slots=True)
class PendingUpdate:
    """An update switched to but not yet confirmed by the new version."""

    version: str
    previous: str | None
    requested_at: float
    boots: int = 0
    """How many launcher starts found this update still pending (a power cut, a reboot)."""


@dataclass(slots=True)
class Rollback:
    """The last rollback: which version failed, why, and whether the hub was told."""

    version: str
    to: str
    error: str
    at: float
    reported: bool = False


@dataclass(slots=True)
class InstallState:
    """The content of ``ROOT/state.json`` (``current`` is the symlink, not stored here)."""

    previous: str | None = None
    pending: PendingUpdate | None = None
    rollback: Rollback | None = None

    @classmethod
    def parse(cls, data: Any) -> InstallState:
        """Read a decoded ``state.json``; anything unusable counts as absent."""
        if not isinstance(data, Mapping):
            return cls()
        state = cls(previous=_text(data.get("previous")))
        pending = data.get("pending")
        if isinstance(pending, Mapping) and _text(pending.get("version")):
            state.pending = PendingUpdate(
                version=str(pending["version"]),
                previous=_text(pending.get("previous")),
                requested_at=float(pending.get("requested_at") or 0.0),
                boots=int(pending.get("boots") or 0),
            )
        rollback = data.get("rollback")
        if isinstance(rollback, Mapping) and _text(rollback.get("version")):
            state.rollback = Rollback(
                version=str(rollback["version"]),
                to=str(rollback.get("to") or ""),
                error=str(rollback.get("error") or ""),
                at=float(rollback.get("at") or 0.0),
                reported=bool(rollback.get("reported")),
            )
        return state

    def to_json(self) -> dict[str, Any]:
        """Return the document written to ``state.json``."""
        return {
            "v": 1,
            "previous": self.previous,
            "pending": asdict(self.pending) if self.pending else None,
            "rollback": asdict(self.rollback) if self.rollback else None,
        }


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def write_atomically(path: Path, data: bytes) -> None:
    """Write a file so a power cut leaves the old or the new content: temp, fsync, rename."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with temporary.open("wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def check_version_name(version: str) -> str:
    """Return ``version`` if it can name a directory under ``versions/``."""
    if not isinstance(version, str) or VERSION_RE.fullmatch(version) is None:
        raise UpdateError(
            f"version {str(version)[:80]!r} cannot name a version directory "
            "(1-64 of letters, digits, '.', '_', '+', '-'; not starting with '.')"
        )
    return version


class UpdateManager:
    """The A/B installation under ``root`` (see the module docstring)."""

    def __init__(self, root: Path, limits: UnpackLimits | None = None) -> None:
        """Manage ``root``; nothing is touched until a method is called."""
        self.root = Path(root)
        self.limits = limits or UnpackLimits()
        self._thread_lock = threading.Lock()

    # paths

    @property
    def versions(self) -> Path:
        """Return ``ROOT/versions``."""
        return self.root / VERSIONS_DIR

    @property
    def current_link(self) -> Path:
        """Return ``ROOT/current``."""
        return self.root / CURRENT_LINK

    def version_dir(self, version: str) -> Path:
        """Return ``ROOT/versions/<version>``."""
        return self.versions / check_version_name(version)

    def current_version(self) -> str | None:
        """Return the version ``current`` points at, None when there is none."""
        try:
            target = str(self.current_link.readlink())
        except OSError:
            return None
        parent, _, name = target.rstrip("/").rpartition("/")
        if parent != VERSIONS_DIR or VERSION_RE.fullmatch(name) is None:
            return None
        return name

    def is_installation(self) -> bool:
        """Return whether ``root`` holds a usable ``current`` version."""
        version = self.current_version()
        return version is not None and self.version_dir(version).is_dir()

    # state

    @contextlib.contextmanager
    def locked(self) -> Iterator[InstallState]:
        """Hold the root's lock; yield the state, written back when the block ends."""
        import fcntl  # POSIX only: importing the library elsewhere stays possible

        self.root.mkdir(parents=True, exist_ok=True)
        with self._thread_lock, (self.root / LOCK_FILE).open("a+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                state = self._read_state()
                before = state.to_json()
                yield state
                if state.to_json() != before:
                    self._write_state(state)
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def state(self) -> InstallState:
        """Return the state as stored (no lock: for display)."""
        return self._read_state()

    def _read_state(self) -> InstallState:
        try:
            return InstallState.parse(json.loads((self.root / STATE_FILE).read_text("utf-8")))
        except FileNotFoundError:
            return InstallState()
        except (ValueError, OSError) as err:
            _LOGGER.error("%s: unreadable (%s); starting from an empty state", STATE_FILE, err)
            return InstallState()

    def _write_state(self, state: InstallState) -> None:
        text = json.dumps(state.to_json(), indent=2, sort_keys=True) + "\n"
        write_atomically(self.root / STATE_FILE, text.encode())

    def switch(self, version: str) -> None:
        """Point ``current`` at ``versions/<version>`` atomically (a symlink renamed over)."""
        if not self.version_dir(version).is_dir():
            raise UpdateError(f"no version directory {VERSIONS_DIR}/{version}")
        temporary = self.root / f".{CURRENT_LINK}.{secrets.token_hex(4)}"
        temporary.symlink_to(f"{VERSIONS_DIR}/{version}")
        try:
            temporary.replace(self.current_link)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        _fsync_dir(self.root)

    # installing and updating

    def _tmp(self) -> Path:
        tmp = self.root / TMP_DIR
        tmp.mkdir(parents=True, exist_ok=True)
        work = tmp / secrets.token_hex(6)
        work.mkdir()
        return work

    def clean_tmp(self) -> None:
        """Remove what interrupted downloads and unpacks left in ``ROOT/tmp``."""
        shutil.rmtree(self.root / TMP_DIR, ignore_errors=True)

    def install(self, archive: Path, version: str | None = None) -> str:
        """Install an archive as the current version at once (first install, by hand).

        ``version`` defaults to ``MH_VERSION`` of the archive's ``env.json``. No pending
        record: a version installed by hand is trusted. Returns the version.
        """
        work = self._tmp()
        try:
            unpacked = work / "unpacked"
            unpack(archive, unpacked, self.limits)
            if version is None:
                version = _env_version(unpacked)
            check_version_name(version)
            entry_command(unpacked)
            with self.locked() as state:
                old = self.current_version()
                self._move_into_versions(unpacked, version, old, work)
                self.switch(version)
                if old is not None and old != version:
                    state.previous = old
                state.pending = None
            return version
        finally:
            shutil.rmtree(work, ignore_errors=True)

    async def apply(
        self,
        request: UpdateRequest,
        *,
        download_timeout: float = DOWNLOAD_TIMEOUT,
    ) -> UnpackResult:
        """Apply an ``update`` command up to the switch; the caller then restarts.

        Download → size and sha256 → unpack into ``ROOT/tmp`` → check the entry point →
        move into ``versions/`` → record it as pending → switch ``current``. Raises
        :class:`UpdateError` with nothing switched when any step fails.
        """
        version = check_version_name(request.version)
        if version == self.current_version():
            raise UpdateError(f"version {version} is already the current version")
        work = await asyncio.to_thread(self._tmp)
        try:
            archive = work / "archive"
            await download(request.url, archive, request.size, timeout=download_timeout)
            return await asyncio.to_thread(self._install_pending, archive, request, work)
        finally:
            await asyncio.to_thread(shutil.rmtree, work, True)

    def _install_pending(self, archive: Path, request: UpdateRequest, work: Path) -> UnpackResult:
        unpacked = work / "unpacked"
        result = verify_and_unpack(archive, unpacked, request.sha256, request.size, self.limits)
        entry_command(unpacked)
        with self.locked() as state:
            old = self.current_version()
            if old == request.version:
                raise UpdateError(f"version {request.version} is already the current version")
            self._move_into_versions(unpacked, request.version, old, work)
            state.pending = PendingUpdate(request.version, old, time.time())
            state.previous = old
            self.switch(request.version)
        _LOGGER.info("update to %s installed; %s until it confirms", request.version, old)
        return result

    def _move_into_versions(
        self, unpacked: Path, version: str, current: str | None, work: Path
    ) -> None:
        if version == current:
            raise UpdateError(f"version {version} is the current version")
        self.versions.mkdir(parents=True, exist_ok=True)
        target = self.version_dir(version)
        if target.exists() or target.is_symlink():
            target.rename(work / "replaced")  # an older copy (a failed or former version)
        unpacked.rename(target)
        _fsync_dir(self.versions)

    # after the restart

    def confirm(self, version: str) -> bool:
        """The new version is online: clear pending and prune; False when nothing was pending.

        Keeps ``current`` and the previous version (the fallback for the next update);
        removes every other version directory.
        """
        with self.locked() as state:
            pending = state.pending
            if pending is None or pending.version != version:
                return False
            if self.current_version() != version:
                return False
            state.pending = None
            keep = {version, *([state.previous] if state.previous else [])}
        self.prune(keep)
        _LOGGER.info("version %s confirmed", version)
        return True

    def prune(self, keep: set[str]) -> None:
        """Remove version directories not in ``keep`` (never the current one)."""
        current = self.current_version()
        with contextlib.suppress(FileNotFoundError):
            for entry in self.versions.iterdir():
                if entry.name in keep or entry.name == current:
                    continue
                if entry.is_symlink() or not entry.is_dir():
                    entry.unlink(missing_ok=True)
                else:
                    shutil.rmtree(entry, ignore_errors=True)

    def rollback_if_pending(self, version: str, error: str) -> Rollback | None:
        """Roll back from ``version`` if it is current and still pending; return the record.

        Returns None when there is nothing to roll back (the version confirmed meanwhile,
        or it is not the pending one). Without a previous version to go back to, the
        pending record is dropped and None returned: the unit keeps what it has.
        """
        with self.locked() as state:
            pending = state.pending
            if pending is None or pending.version != version:
                return None
            if self.current_version() != version:
                return None
            state.pending = None
            target = pending.previous
            if target is None or not self.version_dir(target).is_dir():
                _LOGGER.error(
                    "version %s failed (%s) and there is no previous version to go back to",
                    version,
                    error,
                )
                return None
            self.switch(target)
            state.previous = None
            record = Rollback(version, target, error[:MAX_ERROR_TEXT], time.time())
            state.rollback = record
        _LOGGER.warning("rolled back from %s to %s: %s", version, target, error)
        return record

    def take_rollback_report(self) -> Rollback | None:
        """Return the last rollback once, if the hub has not been told yet."""
        with self.locked() as state:
            record = state.rollback
            if record is None or record.reported:
                return None
            record.reported = True
            return replace(record)


def _env_version(directory: Path) -> str:
    try:
        env = json.loads((directory / "env.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise UpdateError(f"no version given and no readable env.json ({err})") from None
    version = env.get("MH_VERSION") if isinstance(env, Mapping) else None
    if not isinstance(version, str) or not version:
        raise UpdateError("no version given and env.json has no MH_VERSION")
    return version
