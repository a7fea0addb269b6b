"""Looking into a running desktop from outside: its X windows, as root with its cookie."""

from __future__ import annotations

import subprocess

from makerhub_desktops.manager import Desktop
from tests.helpers.desktops_service import focused_window_name, x_display_env


def window_names(desktop: Desktop) -> list[str]:
    """Return the names of the desktop's top-level windows (``xwininfo -root -tree``)."""
    assert desktop.record.display is not None
    result = subprocess.run(
        ["xwininfo", "-root", "-tree"],
        env=_x_env(desktop),
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    names = []
    for raw_line in result.stdout.splitlines():
        line = raw_line.strip()
        if line.startswith("0x") and '"' in line:
            names.append(line.split('"')[1])
    return names


def _x_env(desktop: Desktop) -> dict[str, str]:
    assert desktop.record.display is not None
    return x_display_env(desktop.record.display, desktop.paths.xauthority)


def active_window_name(desktop: Desktop) -> str | None:
    """Return the name of the window the window manager gave the focus to."""
    return focused_window_name(_x_env(desktop))
