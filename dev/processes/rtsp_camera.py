"""A test camera as a separate process: GStreamer's RTSP server, a picture with a clock.

:class:`RtspCamera` runs ``dev/processes/rtsp_camera_server.py`` with the system Python
(``/usr/bin/python3``, which has PyGObject and GStreamer from Debian's packages) on a free
port of 127.0.0.1. Any number of clients can watch it at once. :meth:`RtspCamera.kill`
and :meth:`RtspCamera.start` again (same port, same address) stand for a camera that
goes away and comes back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import os
from pathlib import Path
import signal
import subprocess
import time

from .ports import free_port

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER = str(Path(__file__).with_name("rtsp_camera_server.py"))


@dataclass
class RtspCamera:
    """``rtsp://127.0.0.1:<port>/<path>``: H.264, ``fps`` frames a second."""

    path: str = "/cam"
    port: int = field(default_factory=free_port)
    width: int = 640
    height: int = 360
    fps: int = 15
    keyframe: int = 15
    bitrate: int = 800
    """kbit/s."""
    login: tuple[str, str] | None = None
    """(user, password) a client must give (RTSP Basic authentication); None: anyone."""
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The stream's address."""
        return f"rtsp://127.0.0.1:{self.port}{self.path}"

    @property
    def login_url(self) -> str:
        """The stream's address with the user and password in it (if it needs a login)."""
        if self.login is None:
            return self.url
        user, password = self.login
        return f"rtsp://{user}:{password}@127.0.0.1:{self.port}{self.path}"

    def start(self, timeout: float = 30.0) -> None:
        """Start serving; return once it listens."""
        self.process = subprocess.Popen(
            [
                SYSTEM_PYTHON, SERVER, "--port", str(self.port), "--path", self.path,
                "--width", str(self.width), "--height", str(self.height),
                "--fps", str(self.fps), "--keyframe", str(self.keyframe),
                "--bitrate", str(self.bitrate),
                *(() if self.login is None else ("--user", self.login[0],
                                                 "--password", self.login[1])),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        line = self.process.stdout.readline()
        if line.strip() != b"ready" or time.monotonic() > deadline:
            error = self.process.stderr.read().decode() if self.process.stderr else ""
            self.kill()
            raise RuntimeError(f"the RTSP test camera did not start: {error}")

    def kill(self) -> None:
        """``kill -9`` the server (the camera is lost)."""
        if self.process is not None:
            if self.process.poll() is None:
                os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
            for stream in (self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()
            self.process = None

    stop = kill

    def __enter__(self) -> RtspCamera:
        """Start."""
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        """Stop."""
        self.kill()
