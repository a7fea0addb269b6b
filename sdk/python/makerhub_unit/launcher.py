"""The launcher: runs a unit's current version and rolls a failed update back.

``python -m makerhub_unit.launcher ROOT`` (or ``makerhub-unit-launcher ROOT``) is the
process a service manager keeps alive on the unit. It runs the unit program of
``ROOT/current`` as a child (``python main.py``, or the ``"run"`` command of the
version's ``makerhub.json``) with the version directory as working directory and these
environment variables added:

* ``MH_ROOT`` — the installation root (the SDK applies updates only under a launcher);
* ``MH_RUN_VERSION`` — the version directory it started;
* ``MH_RESTART_EXIT_CODE`` — ``75``: exit with it to be started again at once.

What it does when the child ends:

* exit code 75 (after an update, or a ``restart`` command): start ``current`` again;
* the version is a **pending** update (not confirmed yet) and it crashed, exited, or did
  not confirm within the window (60 s by default): switch ``current`` back to the
  previous version, record the rollback (version and error, the last lines of its
  stderr), delete the failed version and start the previous one — which reports
  ``rolled_back`` when it is online. The previous version is then the only one left: a
  crash loop of it is restarted with backoff, never switched back and forth;
* any other crash: start it again after a backoff (1 s doubling to 60 s; reset once a run
  lasted a minute);
* exit code 0: the launcher ends too.

SIGTERM/SIGINT stop the child (SIGTERM, then SIGKILL after a grace period) and the
launcher; that is no crash, nothing is rolled back.
"""

from __future__ import annotations

import argparse
import collections
from collections.abc import Sequence
import contextlib
import enum
import fcntl
import json
import logging
import os
from pathlib import Path
import shutil
import signal
import subprocess
import sys
import threading
import time
from typing import IO, Final

from .backoff import Backoff
from .updater import (
    DEFAULT_WINDOW,
    ENV_RESTART_CODE,
    ENV_ROOT,
    ENV_RUN_VERSION,
    RESTART_EXIT_CODE,
    UpdateError,
    UpdateManager,
    entry_command,
)

_LOGGER = logging.getLogger(__name__)

MAX_PENDING_BOOTS: Final = 3
"""Launcher starts that may find an update still pending before it is rolled back."""
STDERR_TAIL: Final = 20
ERROR_LINES: Final = 5
POLL: Final = 0.05
LAUNCHER_LOCK: Final = ".launcher.lock"


class _Outcome(enum.Enum):
    EXITED = "exited"
    ROLLED_BACK = "rolled back"
    STOPPED = "stopped"


class Launcher:
    """Runs ``ROOT/current`` and watches pending updates (see the module docstring)."""

    def __init__(
        self,
        root: Path,
        *,
        window: float = DEFAULT_WINDOW,
        python: str | None = None,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        stable_after: float = 60.0,
        term_grace: float = 10.0,
    ) -> None:
        """Prepare to run ``root``; :meth:`run` does the work."""
        self.root = Path(root).absolute()
        self.manager = UpdateManager(self.root)
        self.window = window
        self.python = python or sys.executable
        self.backoff = Backoff(initial=backoff_initial, maximum=backoff_max)
        self.stable_after = stable_after
        self.term_grace = term_grace
        self.starts = 0
        """How many times a unit program was started."""
        self.rollbacks = 0
        self._stop = threading.Event()
        self._deadline: tuple[str, float] | None = None
        self._child: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        """Ask :meth:`run` to stop the child and return (from any thread or a signal)."""
        self._stop.set()

    def run(self) -> int:
        """Run until the unit program exits with 0 or :meth:`stop`; return an exit code."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / LAUNCHER_LOCK).open("a+b") as lock:
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                _LOGGER.error("another launcher runs on %s", self.root)
                return 2
            try:
                return self._run()
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _run(self) -> int:
        self.manager.clean_tmp()
        self._on_boot()
        while not self._stop.is_set():
            version = self.manager.current_version()
            if version is None or not self.manager.version_dir(version).is_dir():
                _LOGGER.error(
                    "%s has no current version; install one with --install ARCHIVE", self.root
                )
                return 2
            started = time.monotonic()
            outcome, error, code = self._run_once(version)
            if outcome is _Outcome.STOPPED:
                break
            if outcome is _Outcome.ROLLED_BACK:
                continue
            if code == RESTART_EXIT_CODE:
                _LOGGER.info("version %s asked for a restart", version)
                self.backoff.reset()
                continue
            if self._roll_back(version, error):
                continue
            if code == 0:
                _LOGGER.info("version %s ended (exit code 0); the launcher ends too", version)
                return 0
            if time.monotonic() - started >= self.stable_after:
                self.backoff.reset()
            delay = self.backoff.next_delay()
            _LOGGER.warning("version %s %s; starting it again in %.1f s", version, error, delay)
            self._stop.wait(delay)
        return 0

    def _on_boot(self) -> None:
        """Drop a pending record that never got switched to; count boots of a pending one."""
        current = self.manager.current_version()
        with self.manager.locked() as state:
            pending = state.pending
            if pending is None:
                return
            if pending.version != current:
                _LOGGER.warning("dropping pending update %s: it was never switched to", pending)
                state.pending = None
                return
            pending.boots += 1
            boots = pending.boots
        if boots > MAX_PENDING_BOOTS:
            self._roll_back(
                pending.version,
                f"not confirmed after {MAX_PENDING_BOOTS} starts of the launcher",
            )

    def _roll_back(
        self, version: str, error: str, child: subprocess.Popen[bytes] | None = None
    ) -> bool:
        """Roll back from ``version`` if it is still pending (stopping ``child`` first)."""
        record = self.manager.rollback_if_pending(version, error)
        if record is None:
            return False
        self.rollbacks += 1
        self._deadline = None
        self.backoff.reset()
        if child is not None:
            self._terminate(child)
        if record.version != self.manager.current_version():
            shutil.rmtree(self.manager.version_dir(record.version), ignore_errors=True)
        _LOGGER.warning("rolled back from %s to %s: %s", record.version, record.to, error)
        return True

    def _pending_deadline(self, version: str) -> float | None:
        pending = self.manager.state().pending
        if pending is None or pending.version != version:
            self._deadline = None
            return None
        if self._deadline is None or self._deadline[0] != version:
            self._deadline = (version, time.monotonic() + self.window)
        return self._deadline[1]

    def _run_once(self, version: str) -> tuple[_Outcome, str, int | None]:
        """Start ``version`` and wait; return the outcome, an error text and the exit code."""
        directory = self.manager.version_dir(version)
        deadline = self._pending_deadline(version)
        try:
            argv = entry_command(directory, self.python)
        except UpdateError as err:
            return _Outcome.EXITED, f"cannot start: {err}", None
        environment = {
            **os.environ,
            ENV_ROOT: str(self.root),
            ENV_RUN_VERSION: version,
            ENV_RESTART_CODE: str(RESTART_EXIT_CODE),
        }
        try:
            child = subprocess.Popen(  # noqa: S603  (the version's own program)
                argv,
                cwd=directory,
                env=environment,
                stdin=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as err:
            return _Outcome.EXITED, f"cannot start {argv[0]}: {err}", None
        self.starts += 1
        self._child = child
        _LOGGER.info("started version %s (pid %d): %s", version, child.pid, " ".join(argv))
        tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL)
        assert child.stderr is not None
        reader = threading.Thread(
            target=_copy_stderr, args=(child.stderr, tail), name="unit-stderr", daemon=True
        )
        reader.start()
        try:
            while (code := child.poll()) is None:
                if self._stop.is_set():
                    self._terminate(child)
                    return _Outcome.STOPPED, "stopped", child.returncode
                if deadline is not None and time.monotonic() >= deadline:
                    error = f"did not confirm within {self.window:g} s"
                    if self._roll_back(version, error, child):
                        return _Outcome.ROLLED_BACK, error, child.returncode
                    deadline = None  # it confirmed
                time.sleep(POLL)
        finally:
            self._child = None
            _kill_group(child.pid)
            reader.join(1.0)
            child.stderr.close()
        return _Outcome.EXITED, _describe(code, tail), code

    def _terminate(self, child: subprocess.Popen[bytes]) -> None:
        _signal_group(child.pid, signal.SIGTERM)
        try:
            child.wait(self.term_grace)
        except subprocess.TimeoutExpired:
            _LOGGER.warning(
                "pid %d ignored SIGTERM for %g s; killing it", child.pid, self.term_grace
            )
            _signal_group(child.pid, signal.SIGKILL)
            child.wait()


def _copy_stderr(stream: IO[bytes], tail: collections.deque[str]) -> None:
    """Pass the child's stderr through, keeping its last lines for a rollback report."""
    out = getattr(sys.stderr, "buffer", None)
    for line in iter(stream.readline, b""):
        if out is not None:
            with contextlib.suppress(OSError, ValueError):
                out.write(line)
                out.flush()
        text = line.decode("utf-8", errors="replace").rstrip()
        if text:
            tail.append(text)


def _describe(code: int | None, tail: Sequence[str]) -> str:
    if code is None:
        what = "did not start"
    elif code < 0:
        try:
            what = f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            what = f"was killed by signal {-code}"
    else:
        what = f"exited with code {code}"
    lines = list(tail)[-ERROR_LINES:]
    return f"{what}: {' | '.join(lines)}" if lines else what


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _kill_group(pid: int) -> None:
    """Kill what the unit program left behind in its process group."""
    _signal_group(pid, signal.SIGKILL)


# --- command line ------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the launcher from the command line."""
    parser = argparse.ArgumentParser(
        prog="makerhub-unit-launcher",
        description="Run a Makerhub unit from an A/B installation root, with rollback.",
    )
    parser.add_argument("root", type=Path, help="the installation root")
    parser.add_argument(
        "--window",
        type=float,
        default=DEFAULT_WINDOW,
        help="seconds a new version has to come online and confirm (default 60)",
    )
    parser.add_argument("--python", help="interpreter for python programs (default: this one)")
    parser.add_argument(
        "--install",
        type=Path,
        metavar="ARCHIVE",
        help="install a tar.gz or zip unit archive as the current version and exit",
    )
    parser.add_argument(
        "--version", dest="install_version", help="with --install: the version's name"
    )
    parser.add_argument(
        "--status", action="store_true", help="print the current version and state.json, exit"
    )
    parser.add_argument(
        "--confirm",
        metavar="VERSION",
        help="confirm a pending update to VERSION (for programs without this library)",
    )
    parser.add_argument("--log-level", default="info", help="logging level (default info)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s launcher %(levelname)s %(message)s"
    )
    manager = UpdateManager(args.root.absolute())
    if args.install is not None:
        try:
            version = manager.install(args.install, args.install_version)
        except UpdateError as err:
            _LOGGER.error("cannot install %s: %s", args.install, err)
            return 1
        print(f"installed {version} as the current version of {args.root}")  # noqa: T201
        return 0
    if args.status:
        status = {"current": manager.current_version(), **manager.state().to_json()}
        print(json.dumps(status, indent=2))  # noqa: T201
        return 0
    if args.confirm is not None:
        return 0 if manager.confirm(args.confirm) else 1
    launcher = Launcher(args.root, window=args.window, python=args.python)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: launcher.stop())
    return launcher.run()


if __name__ == "__main__":
    sys.exit(main())
