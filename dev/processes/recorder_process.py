"""The recorder service as a separate process, for tests, benchmarks and scripts/develop.

:class:`RecorderServiceProcess` runs the add-on's program the way DOCS.md shows
(``python -m makerhub_recorder --data DIR --port N --token T``) with its own data and
recordings folders; :meth:`kill` is a ``kill -9``.
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
ADDON = REPO / "addons" / "makerhub_recorder"


@dataclass
class RecorderServiceProcess:
    """``python -m makerhub_recorder`` on 127.0.0.1:<port> with its own data folder."""

    data_dir: Path
    token: str
    port: int = field(default_factory=free_port)
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """Return the service's log file (beside the data folder)."""
        return self.data_dir.with_suffix(".log")

    def start(self, timeout: float = 30.0) -> None:
        """Start the service and wait until ``/api/health`` answers."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "makerhub_recorder", "--data", str(self.data_dir),
                "--host", "127.0.0.1", "--port", str(self.port), "--token", self.token,
                *self.extra_args,
            ],
            env={**os.environ, "PYTHONPATH": str(ADDON)},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the recorder service exited:\n{self.log_tail()}")
            try:
                self.call("GET", "/api/health")
                return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the recorder service did not answer:\n{self.log_tail()}")

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Send a request with the bearer token; return the status and the JSON answer."""
        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    def fetch(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """GET a file with the bearer token; return the status and the bytes."""
        request = urllib.request.Request(
            self.url + path, headers={"Authorization": f"Bearer {self.token}", **(headers or {})}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def stop(self) -> int | None:
        """Stop the service (SIGTERM; SIGKILL after 20 s); return its exit code."""
        code = None
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(20)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            code = self.process.returncode
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def kill(self) -> None:
        """``kill -9`` the service (its ffmpeg processes die with it)."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.stop()

    def log_tail(self, lines: int = 30) -> str:
        """Return the end of the service's log."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
