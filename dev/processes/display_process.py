"""A station display for the dev server: the display agent (``makerhub-display run``) and
its kiosk Chromium on a virtual screen the developer watches in the browser.

The screen is TigerVNC's ``Xvnc`` (view it with any VNC viewer on ``vnc_port``, or with
noVNC through Debian's ``websockify`` on ``web_port``); the agent is this checkout's
``sdk/python/makerhub_display``, configured as ``makerhub-display setup`` would.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
import os
from pathlib import Path
import shutil
import signal
import subprocess
import sys

from makerhub_display.config import DisplayConfig

REPO = Path(__file__).resolve().parents[2]
NOVNC = Path("/usr/share/novnc")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]


@dataclass
class DisplayProcess:
    """Xvnc, websockify + noVNC and the display agent, started and stopped together."""

    directory: Path
    broker_host: str
    broker_port: int
    ha_url: str
    name: str = "Workbench display"
    announce_id: str = "workbench-display"
    vnc_port: int = 5960
    web_port: int = 6080
    width: int = 1280
    height: int = 800
    display: str = ""
    _processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def log_path(self) -> Path:
        """Return the agent's log (Chromium's output included)."""
        return self.directory / "display.log"

    @property
    def config_path(self) -> Path:
        """Return the agent's configuration file."""
        return self.directory / "display.json"

    @property
    def url(self) -> str:
        """Return noVNC's page showing the screen (view only, scaled to the window)."""
        return (
            f"http://127.0.0.1:{self.web_port}/vnc.html"
            "?autoconnect=true&view_only=true&resize=scale&reconnect=true"
        )

    def write_config(self) -> None:
        """Write the agent's configuration (the dev broker takes anonymous clients)."""
        no_tools = self.directory / "no-power-tools"  # no DPMS: the agent's black cover
        no_tools.mkdir(parents=True, exist_ok=True)
        DisplayConfig(
            mqtt_host=self.broker_host,
            mqtt_port=self.broker_port,
            announce_id=self.announce_id,
            name=self.name,
            ha_url=self.ha_url,
            state_dir=str(self.directory / "state"),
            chromium=shutil.which("chromium") or "chromium",
            # No window manager on this screen: the kiosk window is sized to fill it.
            chromium_args=[
                *CHROMIUM_ARGS,
                "--window-position=0,0",
                f"--window-size={self.width},{self.height}",
            ],
            power_path=str(no_tools),
        ).save(self.config_path)

    def start(self) -> None:
        """Start the screen, its web viewer and the agent."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.write_config()
        self.display = self._start_xvnc()
        log = (self.directory / "screen.log").open("ab")
        self._processes.append(
            subprocess.Popen(
                [
                    "websockify",
                    "--web",
                    str(NOVNC),
                    f"127.0.0.1:{self.web_port}",
                    f"127.0.0.1:{self.vnc_port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "XAUTHORITY")}
        env.update(DISPLAY=self.display, PYTHONPATH=str(REPO / "sdk" / "python"))
        self._processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "makerhub_display",
                    "run",
                    "--config",
                    str(self.config_path),
                ],
                env=env,
                stdout=self.log_path.open("ab"),
                stderr=subprocess.STDOUT,
            )
        )

    def _start_xvnc(self) -> str:
        """Start Xvnc on a free display number (it picks one) and return its name."""
        read_end, write_end = os.pipe()
        process = subprocess.Popen(
            ["Xvnc", "-displayfd", str(write_end), "-geometry", f"{self.width}x{self.height}",
             "-depth", "24", "-rfbport", str(self.vnc_port), "-localhost",
             "-SecurityTypes", "None", "-AlwaysShared", "-nolisten", "tcp"],
            pass_fds=(write_end,), stdout=(self.directory / "screen.log").open("ab"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        os.close(write_end)
        self._processes.append(process)
        with os.fdopen(read_end, "rb") as reader:
            number = reader.readline().strip()
        if not number:
            raise RuntimeError(f"Xvnc did not start (exit {process.poll()}): see screen.log")
        return f":{int(number)}"

    def stop(self) -> None:
        """Stop the agent (it ends its Chromium), then the viewer and the screen."""
        for process in reversed(self._processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(10)
        self._processes.clear()
