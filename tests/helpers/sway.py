"""A virtual Wayland screen: Debian's ``sway`` on wlroots' headless backend, ``grim`` shots.

Sway refuses to run as root (it checks that root cannot be regained), so under root it
runs as ``nobody`` with its own runtime folder; root's clients (Chromium, ``swaymsg``,
``grim``) reach its sockets all the same.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
from dataclasses import dataclass
import io
import json
import os
from pathlib import Path
import pwd
import shutil
import subprocess
import tempfile
import time

from PIL import Image

START_TIMEOUT = 60.0


@dataclass(frozen=True)
class SwayScreen:
    """A running headless sway: where its sockets are, its size."""

    runtime_dir: Path
    wayland_display: str
    swaysock: str
    width: int
    height: int
    log_path: Path

    @property
    def env(self) -> dict[str, str]:
        """Return an environment whose programs draw on (and talk to) this sway."""
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "XAUTHORITY")}
        env.update(
            XDG_RUNTIME_DIR=str(self.runtime_dir),
            WAYLAND_DISPLAY=self.wayland_display,
            SWAYSOCK=self.swaysock,
        )
        return env

    def outputs(self) -> list[dict[str, object]]:
        """Return sway's own report of its outputs (``swaymsg -t get_outputs``)."""
        done = subprocess.run(
            ["swaymsg", "-r", "-t", "get_outputs"],
            env=self.env, capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
        outputs: list[dict[str, object]] = json.loads(done.stdout)
        return outputs

    def grab(self) -> Image.Image:
        """Return a screenshot of the output, as the compositor has it (``grim``)."""
        done = subprocess.run(
            ["grim", "-t", "png", "-"], env=self.env, capture_output=True, timeout=30, check=True
        )
        return Image.open(io.BytesIO(done.stdout)).convert("RGB")


@contextlib.contextmanager
def headless_sway(width: int = 1024, height: int = 600) -> Iterator[SwayScreen]:
    """Run sway with one headless output of the given size until the block ends."""
    folder = Path(tempfile.mkdtemp(prefix="makerhub-sway-"))
    runtime = folder / "run"
    runtime.mkdir(mode=0o700)
    config = folder / "config"
    config.write_text(
        f"output HEADLESS-1 mode {width}x{height}\ndefault_border none\nseat * hide_cursor 100\n"
    )
    command = ["sway", "--config", str(config)]
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(runtime, nobody.pw_uid, nobody.pw_gid)
        folder.chmod(0o755)
        config.chmod(0o644)
        command = ["runuser", "-u", "nobody", "--", *command]
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(
        HOME=str(folder),
        XDG_RUNTIME_DIR=str(runtime),
        WLR_BACKENDS="headless",
        WLR_LIBINPUT_NO_DEVICES="1",
        WLR_RENDERER="pixman",  # no GPU here
    )
    log_path = folder / "sway.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            sockets = sorted(runtime.glob("sway-ipc.*.sock"))
            displays = sorted(p for p in runtime.glob("wayland-*") if not p.name.endswith(".lock"))
            if sockets and displays:
                break
            exited = process.poll()
            assert exited is None, f"sway exited {exited}: {log_path.read_text()[-2000:]}"
            assert time.monotonic() < deadline, f"sway did not start: {log_path.read_text()}"
            time.sleep(0.05)
        screen = SwayScreen(runtime, displays[0].name, str(sockets[0]), width, height, log_path)
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(screen):
            assert time.monotonic() < deadline, f"sway did not answer: {log_path.read_text()}"
            time.sleep(0.05)
        yield screen
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def _answers(screen: SwayScreen) -> bool:
    try:
        return bool(screen.outputs())
    except (subprocess.CalledProcessError, ValueError):
        return False
