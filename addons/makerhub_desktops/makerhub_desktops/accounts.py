"""Operating-system users of the desktops, and the processes each one runs.

Every desktop runs as its own user, so "the desktop's processes" is exactly the set of
processes of that user: suspending, resuming and stopping act on all of them, including
whatever the person started from the terminal (which leaves any process group).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
import grp
import os
from pathlib import Path
import pwd
import signal
import subprocess
import time

from .errors import DesktopFailedError


@dataclass(frozen=True, slots=True)
class Account:
    """A desktop's user."""

    name: str
    uid: int
    gid: int


def lookup(name: str) -> Account | None:
    """Return the user ``name`` if it exists."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return Account(name, entry.pw_uid, entry.pw_gid)


def ensure_account(name: str, home: Path, uid: int | None = None) -> Account:
    """Return the user ``name``, creating it (own group, no login password) if missing.

    ``uid`` asks for the id the user had before (a new container has a fresh
    ``/etc/passwd`` but the same homes): its files stay its own and no other desktop's
    user can inherit them. A taken id is not reused; the caller re-owns the home then.
    """
    if (existing := lookup(name)) is not None:
        return existing
    wanted: list[str] = []
    if uid is not None and not _uid_taken(uid) and not _gid_taken(uid):
        wanted = ["--uid", str(uid), "--gid", str(uid)]
        group = subprocess.run(  # noqa: S603
            ["groupadd", "--gid", str(uid), "--", name],  # noqa: S607
            capture_output=True, check=False,
        )  # fmt: skip
        if group.returncode != 0:
            wanted = []
    result = subprocess.run(  # noqa: S603  (fixed argv, a checked user name)
        ["useradd",  # noqa: S607  (found on PATH, as in a shell)
         "--no-create-home", "--home-dir", str(home), "--shell", "/bin/bash",
         *(wanted or ["--user-group"]), "--comment", "Makerhub desktop", "--", name],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise DesktopFailedError(f"useradd {name} failed: {result.stderr.strip()}")
    account = lookup(name)
    if account is None:
        raise DesktopFailedError(f"useradd {name} left no user")
    return account


def _uid_taken(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


def _gid_taken(gid: int) -> bool:
    try:
        grp.getgrgid(gid)
    except KeyError:
        return False
    return True


def remove_account(name: str) -> None:
    """Delete the user and its group (its files are removed by the caller)."""
    if (account := lookup(name)) is not None:
        kill_all(account.uid)
        subprocess.run(  # noqa: S603
            ["userdel", "--", name],  # noqa: S607
            capture_output=True,
            check=False,
        )


def processes_of(uid: int) -> list[int]:
    """Return the ids of the live processes whose real user id is ``uid``."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != uid:
                continue
            state = _state(int(entry.name))
        except (OSError, ValueError):
            continue
        if state not in {"Z", "X"}:
            found.append(int(entry.name))
    return found


def _state(pid: int) -> str:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text.rsplit(")", 1)[1].split()[0]


def is_stopped(pid: int) -> bool:
    """Return whether the process is stopped by a signal (or gone)."""
    try:
        return _state(pid) in {"T", "t", "Z", "X"}
    except (OSError, ValueError):
        return True


def signal_all(uid: int, sig: signal.Signals) -> int:
    """Send ``sig`` to every process of ``uid``; return how many got it."""
    count = 0
    for pid in processes_of(uid):
        try:
            os.kill(pid, sig)
            count += 1
        except ProcessLookupError:
            pass
    return count


def stop_all(uid: int, rounds: int = 50) -> None:
    """SIGSTOP every process of ``uid``, again until none is left running (forks race)."""
    for _ in range(rounds):
        running = [pid for pid in processes_of(uid) if not is_stopped(pid)]
        if not running:
            return
        for pid in running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        time.sleep(0.002)


def kill_all(uid: int, grace: float = 2.0) -> None:
    """End every process of ``uid``: SIGTERM (and SIGCONT), SIGKILL after ``grace``."""
    signal_all(uid, signal.SIGTERM)
    signal_all(uid, signal.SIGCONT)
    deadline = time.monotonic() + grace
    while processes_of(uid) and time.monotonic() < deadline:
        time.sleep(0.02)
    for _ in range(100):
        if not processes_of(uid):
            return
        signal_all(uid, signal.SIGKILL)
        time.sleep(0.02)
