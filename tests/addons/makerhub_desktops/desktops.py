"""Looking into a running desktop from outside: its X windows, as root with its cookie."""

from __future__ import annotations

import subprocess

from makerhub_desktops.manager import Desktop


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
    return {
        "DISPLAY": f":{desktop.record.display}",
        "XAUTHORITY": str(desktop.paths.xauthority),
        "PATH": "/usr/bin:/bin",
    }


def active_window_name(desktop: Desktop) -> str | None:
    """Return the name of the window the window manager gave the focus to."""
    root = subprocess.run(
        ["xprop", "-root", "_NET_ACTIVE_WINDOW"],
        env=_x_env(desktop), capture_output=True, text=True, timeout=10, check=True,
    )  # fmt: skip
    window = root.stdout.rsplit(" ", 1)[-1].strip()
    if not window.startswith("0x") or int(window, 16) == 0:
        return None
    info = subprocess.run(
        ["xwininfo", "-id", window],
        env=_x_env(desktop), capture_output=True, text=True, timeout=10, check=False,
    )  # fmt: skip
    first = next((line for line in info.stdout.splitlines() if "xwininfo:" in line), "")
    return first.split('"')[1] if '"' in first else None
