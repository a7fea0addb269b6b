"""The firmware service and units under the A/B launcher, as separate processes.

For the end-to-end tests: :class:`FirmwareServiceProcess` runs the add-on's program the way
DOCS.md shows (``python -m makerhub_firmware --data DIR --port N --token T``), allowed to
clone ``file://`` URLs; :class:`LauncherUnit` installs a unit archive under an
installation root and runs ``python -m makerhub_unit.launcher ROOT`` on it, as a service
manager would, with this checkout's SDK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import signal
import subprocess
import sys
import time
from typing import IO, Any
import urllib.error
import urllib.request

from .ports import free_port

REPO = Path(__file__).resolve().parents[2]
SDK = REPO / "sdk" / "python"
ADDON = REPO / "addons" / "makerhub_firmware"


def _signal(pid: int, sig: signal.Signals, group: bool = False) -> None:
    try:
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def children(pid: int) -> list[int]:
    """Return the ids of the processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


@dataclass
class FirmwareServiceProcess:
    """``python -m makerhub_firmware`` on 127.0.0.1:<port> with its own data folder."""

    data_dir: Path
    token: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """Return the service's log file."""
        return self.data_dir.with_suffix(".log")

    def start(self, timeout: float = 30.0) -> None:
        """Start the service and wait until ``/api/health`` answers."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "makerhub_firmware", "--data", str(self.data_dir),
                "--host", "127.0.0.1", "--port", str(self.port), "--token", self.token,
                "--allow-url-scheme", "file", "--log-level", "info",
            ],
            env={**os.environ, "PYTHONPATH": str(ADDON)},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        request = urllib.request.Request(
            f"{self.url}/api/health", headers={"Authorization": f"Bearer {self.token}"}
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the firmware service exited:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the firmware service did not answer:\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop the service (SIGTERM, SIGKILL after 10 s)."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 30) -> str:
        """Return the end of the service's log."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class LauncherUnit:
    """A unit's installation root and the launcher process running it."""

    def __init__(self, root: Path, window: float = 60.0) -> None:
        """Use ``root`` (created on install); the launcher logs next to it."""
        self.root = root
        self.window = window
        self.log_path = root.with_suffix(".log")
        self.process: subprocess.Popen[bytes] | None = None
        self.frozen = False
        self._log: IO[bytes] | None = None

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "makerhub_unit.launcher", str(self.root), *args],
            env={**os.environ, "PYTHONPATH": str(SDK)},
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    def install(self, archive: Path) -> str:
        """Install ``archive`` as the current version (``--install``); return its output."""
        result = self._run("--install", str(archive))
        if result.returncode != 0:
            raise AssertionError(f"--install failed: {result.stderr}")
        return result.stdout.strip()

    def status(self) -> dict[str, Any]:
        """Return ``--status``: the current version and ``state.json``."""
        result = self._run("--status")
        if result.returncode != 0:
            raise AssertionError(f"--status failed: {result.stderr}")
        status: dict[str, Any] = json.loads(result.stdout)
        return status

    def versions(self) -> list[str]:
        """Return the version directories present."""
        return sorted(path.name for path in (self.root / "versions").iterdir())

    def start(self) -> None:
        """Run the launcher (in a session of its own)."""
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "makerhub_unit.launcher", str(self.root),
                "--window", str(self.window),
            ],
            env={**os.environ, "PYTHONPATH": str(SDK)},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    @property
    def running(self) -> bool:
        """Return whether the launcher process is alive."""
        return self.process is not None and self.process.poll() is None

    def freeze(self) -> None:
        """SIGSTOP the launcher and the unit program: the unit hangs, connected, silent."""
        assert self.process is not None
        _signal(self.process.pid, signal.SIGSTOP)
        for child in children(self.process.pid):
            _signal(child, signal.SIGSTOP, group=True)
        self.frozen = True

    def stop(self, timeout: float = 30.0) -> int | None:
        """Stop the launcher as a service manager does (SIGTERM); return its exit code."""
        if self.process is None:
            return None
        if self.frozen:
            self.kill()
            return self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None
        finally:
            self._close_log()

    def kill(self) -> None:
        """SIGKILL the unit program and the launcher (frozen or not)."""
        if self.process is None:
            return
        for child in children(self.process.pid):
            _signal(child, signal.SIGKILL, group=True)
        _signal(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 30) -> str:
        """Return the end of the launcher's (and its unit program's) output."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
