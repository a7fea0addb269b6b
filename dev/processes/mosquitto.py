"""A real Mosquitto broker (tests, benchmarks, the dev server): own config, port and data."""

from __future__ import annotations

from dataclasses import dataclass, field
import getpass
from pathlib import Path
import shutil
import subprocess
import time

from .ports import free_port

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


@dataclass
class MosquittoBroker:
    """One Mosquitto process listening on 127.0.0.1:<port>.

    ``extra_config`` lines are appended to the generated config (for example the
    dynamic-security plugin). ``restart()`` keeps the port and the persistence file, as a
    real broker restart would.

    With ``persistence`` the broker saves its database (retained messages, sessions) as
    ``docs/broker.md`` advises: after every change (``autosave_on_changes true`` with
    ``autosave_interval 1``), so a ``kill()`` loses nothing retained. ``prompt_autosave``
    False leaves Mosquitto's default (every 30 minutes and at a clean exit): a kill loses
    what changed since it started.
    """

    directory: Path
    port: int = field(default_factory=free_port)
    extra_config: list[str] = field(default_factory=list)
    allow_anonymous: bool = True
    persistence: bool = True
    prompt_autosave: bool = True
    _process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        """Return the literal host tests must use."""
        return "127.0.0.1"

    @property
    def log_path(self) -> Path:
        """Return the broker's log file."""
        return self.directory / "mosquitto.log"

    def write_config(self) -> Path:
        """Write the config file and return its path."""
        self.directory.mkdir(parents=True, exist_ok=True)
        config = [
            # Run as whoever runs the tests: as root, Mosquitto would otherwise switch to
            # the mosquitto user, who cannot write this directory.
            f"user {getpass.getuser()}",
            f"listener {self.port} 127.0.0.1",
            f"allow_anonymous {'true' if self.allow_anonymous else 'false'}",
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {self.directory}/",
            *(
                ["autosave_on_changes true", "autosave_interval 1"]
                if self.persistence and self.prompt_autosave
                else []
            ),
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "log_timestamp_format %H:%M:%S",
            "max_queued_messages 100000",
            "max_inflight_messages 0",
            *self.extra_config,
        ]
        path = self.directory / "mosquitto.conf"
        path.write_text("\n".join(config) + "\n")
        return path

    def start(self, timeout: float = 10.0) -> None:
        """Start the broker and wait until it accepts connections."""
        config = self.write_config()
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self._process = subprocess.Popen(
            [MOSQUITTO, "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                stderr = self._process.stderr.read().decode() if self._process.stderr else ""
                raise RuntimeError(f"mosquitto exited: {stderr}\n{self.log_tail()}")
            if self.log_path.exists():
                with self.log_path.open("rb") as log:
                    log.seek(offset)
                    if b" running" in log.read():
                        return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"mosquitto did not start within {timeout}s\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop the broker (SIGTERM, so it saves its persistence file)."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stderr:
            self._process.stderr.close()
        self._process = None

    def kill(self) -> None:
        """Kill the broker without warning (SIGKILL: it saves nothing on the way out)."""
        if self._process is None:
            return
        self._process.kill()
        self._process.wait()
        if self._process.stderr:
            self._process.stderr.close()
        self._process = None

    def restart(self) -> None:
        """Stop and start again on the same port."""
        self.stop()
        self.start()

    @property
    def pid(self) -> int | None:
        """Return the broker's process id while it was started (to kill it with others)."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        """Return whether the process is alive."""
        return self._process is not None and self._process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        """Return the end of the broker log, for failure messages."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def retained(self, topic: str) -> dict[str, str]:
        """Return the retained messages under ``topic`` as the broker holds them now."""
        result = subprocess.run(
            [
                "mosquitto_sub", "-h", self.host, "-p", str(self.port), "-t", topic, "-v",
                "--retained-only", "-W", "2",
            ],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        return dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
