"""One desktop's programs: Xvnc, the window manager, the panel and the first windows.

Xvnc runs as the desktop's user on a display number it picks itself (``-displayfd``),
with no TCP listener at all: X clients need the cookie in the user's ``.Xauthority``
(0600), and the RFB protocol is served only on a Unix socket in the desktop's run folder
(0700, the user's), which the service's proxy connects to. ``-SecurityTypes None`` is
safe there because no one but the user and the service can reach that socket.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
import logging
import os
from pathlib import Path
import secrets
import shutil
import struct
from typing import Final

from .accounts import Account
from .errors import DesktopFailedError

_LOGGER = logging.getLogger(__name__)

GEOMETRY: Final = "1280x800"
APPS: Final[tuple[tuple[str, ...], ...]] = (
    ("openbox",),
    ("tint2",),  # reads ~/.config/tint2/tint2rc, installed by install_defaults
    ("xterm", "-title", "workspace", "-geometry", "100x30+40+40"),
)
"""What a desktop starts with: the window manager, its panel, a terminal in the workspace."""
START_TIMEOUT: Final = 15.0
MAX_LOG: Final = 1024 * 1024
"""A desktop's log beyond this is moved to ``<project>.log.1`` at the next start."""


def xauthority_bytes(cookie: bytes) -> bytes:
    """Return an ``.Xauthority`` file with one MIT cookie valid for any display.

    FamilyWild with an empty display number matches whatever display Xvnc picks.
    """

    def counted(value: bytes) -> bytes:
        return struct.pack(">H", len(value)) + value

    return (
        struct.pack(">H", 0xFFFF)
        + counted(b"")
        + counted(b"")
        + counted(b"MIT-MAGIC-COOKIE-1")
        + counted(cookie)
    )


TINT2RC: Final = Path(__file__).with_name("tint2rc")


def install_defaults(account: Account, paths: DesktopPaths) -> None:
    """Give a new home the panel's configuration (kept if the person changed it).

    Runs as root in a folder the user owns, while none of the user's processes run (they
    are ended before a start): a symlink anywhere on the way means "leave it alone".
    """
    config = paths.home / ".config"
    target = config / "tint2" / "tint2rc"
    if any(p.is_symlink() for p in (config, config / "tint2", target)) or target.exists():
        return
    for folder in (config, config / "tint2"):
        if not folder.is_dir():
            folder.mkdir(mode=0o700)
            os.chown(folder, account.uid, account.gid)
    write_owned(target, TINT2RC.read_bytes(), account)


def write_owned(path: Path, data: bytes, account: Account, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` as a file of ``account`` (no symlink followed)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        os.write(fd, data)
        os.fchown(fd, account.uid, account.gid)
    finally:
        os.close(fd)


@dataclass
class DesktopPaths:
    """Where one desktop keeps its things."""

    home: Path
    run: Path

    @property
    def workspace(self) -> Path:
        """The clone of the project's repository."""
        return self.home / "workspace"

    @property
    def scratch(self) -> Path:
        """The optional folder deleted after its TTL."""
        return self.home / "scratch"

    @property
    def socket(self) -> Path:
        """Xvnc's RFB socket."""
        return self.run / "vnc.sock"

    @property
    def xauthority(self) -> Path:
        """The X cookie file."""
        return self.home / ".Xauthority"


@dataclass
class Session:
    """The running programs of one desktop (children of this service)."""

    display: int
    xvnc_pid: int
    processes: list[asyncio.subprocess.Process] = field(default_factory=list)

    async def reap(self) -> None:
        """Wait for the programs this service started (after they were killed)."""
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                await process.wait()


def session_env(account: Account, paths: DesktopPaths, display: int | None) -> dict[str, str]:
    """Return the environment of the desktop's programs."""
    env = {
        "HOME": str(paths.home),
        "USER": account.name,
        "LOGNAME": account.name,
        "SHELL": "/bin/bash",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "XAUTHORITY": str(paths.xauthority),
        "XDG_RUNTIME_DIR": str(paths.run),
    }
    if display is not None:
        env["DISPLAY"] = f":{display}"
    return env


async def start_session(
    account: Account, paths: DesktopPaths, log_path: Path, apps: tuple[tuple[str, ...], ...] = APPS
) -> Session:
    """Start Xvnc and the desktop's programs; return once Xvnc serves RFB."""
    ensure_x11_unix()
    install_defaults(account, paths)
    write_owned(paths.xauthority, xauthority_bytes(secrets.token_bytes(16)), account)
    with contextlib.suppress(FileNotFoundError):
        paths.socket.unlink()
    rotate_log(log_path)
    log = log_path.open("ab")
    read_fd, write_fd = os.pipe()
    try:
        xvnc = await asyncio.create_subprocess_exec(
            "Xvnc", "-displayfd", str(write_fd),
            "-rfbunixpath", str(paths.socket), "-rfbunixmode", "0600", "-rfbport", "-1",
            "-SecurityTypes", "None", "-nolisten", "tcp", "-auth", str(paths.xauthority),
            "-geometry", GEOMETRY, "-depth", "24", "-AlwaysShared", "-desktop", account.name,
            stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
            env=session_env(account, paths, None), cwd=str(paths.home),
            user=account.uid, group=account.gid, extra_groups=[],
            pass_fds=(write_fd,), start_new_session=True,
        )  # fmt: skip
    finally:
        os.close(write_fd)
    session = Session(display=-1, xvnc_pid=xvnc.pid, processes=[xvnc])
    try:
        async with asyncio.timeout(START_TIMEOUT):
            text = await asyncio.to_thread(_read_display, read_fd)
            session.display = int(text)
            while not paths.socket.exists():
                if xvnc.returncode is not None:
                    raise DesktopFailedError(f"Xvnc exited with {xvnc.returncode}")
                await asyncio.sleep(0.01)
    except (TimeoutError, ValueError) as err:
        xvnc.kill()
        await xvnc.wait()
        raise DesktopFailedError(
            f"Xvnc did not start ({err or 'timeout'}); see {log_path}"
        ) from None
    finally:
        os.close(read_fd)
        log.close()
    env = session_env(account, paths, session.display)
    cwd = paths.workspace if paths.workspace.is_dir() else paths.home
    for argv in apps:
        if shutil.which(argv[0]) is None:
            _LOGGER.warning("%s is not installed; the desktop starts without it", argv[0])
            continue
        with log_path.open("ab") as app_log:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL, stdout=app_log, stderr=app_log,
                env=env, cwd=str(cwd),
                user=account.uid, group=account.gid, extra_groups=[],
                start_new_session=True,
            )  # fmt: skip
        session.processes.append(process)
    return session


def rotate_log(log_path: Path) -> None:
    """Move a log over :data:`MAX_LOG` aside (one old log is kept)."""
    with contextlib.suppress(FileNotFoundError):
        if log_path.stat().st_size > MAX_LOG:
            log_path.replace(log_path.with_suffix(".log.1"))


def _read_display(fd: int) -> str:
    """Read what Xvnc writes to ``-displayfd`` (blocks until it is ready or exits)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(fd, 32)
        if not chunk:
            break
        data += chunk
    return data.decode().strip()


def ensure_x11_unix() -> None:
    """Create ``/tmp/.X11-unix`` (sticky, world-writable) as an X server expects it."""
    path = Path("/tmp/.X11-unix")  # noqa: S108  (the X11 convention)
    if not path.exists() and os.geteuid() == 0:
        with contextlib.suppress(FileExistsError):
            path.mkdir()
            path.chmod(0o1777)
