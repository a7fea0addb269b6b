"""A virtual X screen (Debian's ``Xvfb``) for tests that show things on a screen."""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
from dataclasses import dataclass
import os
import subprocess

from PIL import Image, ImageGrab


@dataclass(frozen=True)
class VirtualScreen:
    """A running Xvfb: its display name and size."""

    display: str
    width: int
    height: int

    @property
    def env(self) -> dict[str, str]:
        """Return an environment whose programs draw on this screen."""
        env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "XAUTHORITY")}
        env["DISPLAY"] = self.display
        return env

    def grab(self) -> Image.Image:
        """Return a screenshot of the whole screen, as the X server has it."""
        return ImageGrab.grab(xdisplay=self.display).convert("RGB")


@contextlib.contextmanager
def xvfb(width: int = 1024, height: int = 600) -> Iterator[VirtualScreen]:
    """Run Xvfb on a free display number (it picks one: ``-displayfd``) until the block ends."""
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{width}x{height}x24",
         "-nolisten", "tcp", "+extension", "DPMS"],
        pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write_end)
    try:
        with os.fdopen(read_end, "rb") as reader:
            number = reader.readline().strip()
        assert number, f"Xvfb did not start (exit {process.poll()})"
        yield VirtualScreen(f":{int(number)}", width, height)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
