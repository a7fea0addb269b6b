"""Screen power: the probe order with tools missing, failing, hanging or lying; xset for real."""

from __future__ import annotations

import os
from pathlib import Path
import shutil

import pytest

from makerhub_display.browser import Kiosk
from makerhub_display.power import (
    CecPower,
    DdcPower,
    DpmsPower,
    OverlayPower,
    PowerError,
    Tools,
    candidates,
    probe,
    switch,
)
from tests.helpers.xvfb import VirtualScreen

from .conftest import centre_colour, wait_until

# Stand-ins for tools that need a real monitor or TV; each keeps its state in a file.
DDCUTIL_WORKS = """#!/bin/sh
echo "$*" >> "$(dirname "$0")/calls.log"
case "$1 $2" in
  "setvcp d6") echo "$3" > "$(dirname "$0")/d6" ;;
  "setvcp 10") echo "$3" > "$(dirname "$0")/brightness" ;;
  "getvcp d6") echo "VCP D6 SNC x$(cat "$(dirname "$0")/d6" 2>/dev/null || echo 01)" ;;
esac
"""
DDCUTIL_NO_MONITOR = """#!/bin/sh
echo "Display not found" >&2
exit 1
"""
DDCUTIL_READS_OFF = """#!/bin/sh
[ "$1" = getvcp ] && echo "VCP D6 SNC x04"
exit 0
"""
CEC_WORKS = """#!/bin/sh
read -r command
case "$command" in
  "on 0") echo on > "$(dirname "$0")/tv" ;;
  "standby 0") echo standby > "$(dirname "$0")/tv" ;;
  "pow 0") echo "power status: $(cat "$(dirname "$0")/tv" 2>/dev/null || echo on)" ;;
esac
"""
CEC_HANGS = """#!/bin/sh
exec sleep 60
"""
WLOPM = """#!/bin/sh
state="$(dirname "$0")/state"
case "$1" in
  --on) echo on > "$state" ;;
  --off) echo off > "$state" ;;
  *) echo "HDMI-A-1 $(cat "$state" 2>/dev/null || echo on)" ;;
esac
"""


class FakeCover:
    """The overlay's kiosk side, for probes that never get to it."""

    def __init__(self) -> None:
        self.blank = False

    def set_blank(self, blank: bool) -> None:
        self.blank = blank

    def is_blank(self) -> bool:
        return self.blank


def tool_dir(tmp_path: Path, **scripts: str) -> Path:
    """A PATH folder holding only the given tools (``xset`` is the real one)."""
    folder = tmp_path / "bin"
    folder.mkdir(parents=True, exist_ok=True)
    for name, script in scripts.items():
        if name == "xset":
            real = shutil.which("xset")
            assert real, "xset is missing: scripts/lib/bootstrap.sh installs x11-xserver-utils"
            (folder / name).symlink_to(real)
            continue
        path = folder / name.replace("_", "-")
        path.write_text(script)
        path.chmod(0o755)
    return folder


def test_ddcci_comes_first_and_switches_with_a_readback(tmp_path: Path) -> None:
    folder = tool_dir(tmp_path, ddcutil=DDCUTIL_WORKS, cec_client=CEC_WORKS)
    chosen = probe(candidates(Tools(path=str(folder)), FakeCover(), wayland=False))
    assert chosen.method.name == "ddcci"
    assert chosen.rejected == {}
    assert switch(chosen.method, on=False) is False
    assert (folder / "d6").read_text().strip() == "04"
    assert switch(chosen.method, on=True) is True
    assert chosen.method.set_brightness(40)
    assert (folder / "brightness").read_text().strip() == "40"


def test_missing_tools_are_passed_over_in_order(tmp_path: Path) -> None:
    folder = tool_dir(tmp_path, cec_client=CEC_WORKS)
    chosen = probe(candidates(Tools(path=str(folder)), FakeCover(), wayland=False))
    assert chosen.method.name == "cec"
    assert chosen.rejected == {"ddcci": "ddcutil is not installed"}
    assert switch(chosen.method, on=False) is False
    assert (folder / "tv").read_text().strip() == "standby"
    assert chosen.method.set_brightness(50) is False


def test_failing_lying_and_hanging_tools_fall_through_to_the_overlay(
    tmp_path: Path, screen: VirtualScreen
) -> None:
    folder = tool_dir(tmp_path, ddcutil=DDCUTIL_NO_MONITOR, cec_client=CEC_HANGS, xset="")
    cover = FakeCover()
    tools = Tools(path=str(folder), env=screen.env, timeout=2)
    chosen = probe(candidates(tools, cover, wayland=False))
    assert isinstance(chosen.method, OverlayPower)
    assert chosen.rejected["ddcci"] == "ddcutil setvcp d6 01 exited 1: Display not found"
    assert chosen.rejected["cec"] == "cec-client -s -d 1 took over 2 s"
    # Debian's Xvfb has no DPMS extension: the real xset exits 0 all the same, and the
    # readback is what tells.
    assert chosen.rejected["dpms"] == "dpms: the X server has no DPMS extension"

    folder = tool_dir(tmp_path / "liar", ddcutil=DDCUTIL_READS_OFF)
    chosen = probe(candidates(Tools(path=str(folder)), cover, wayland=False))
    assert chosen.rejected["ddcci"] == "ddcci: switched on, the screen still reads off"


def test_dpms_with_xset_on_a_virtual_screen(tmp_path: Path, screen: VirtualScreen) -> None:
    dpms = DpmsPower(Tools(path=str(tool_dir(tmp_path, xset="")), env=screen.env))
    with pytest.raises(PowerError, match="no DPMS extension"):
        dpms.is_on()


def test_wayland_uses_wlopm(tmp_path: Path) -> None:
    folder = tool_dir(tmp_path, wlopm=WLOPM)
    chosen = probe(candidates(Tools(path=str(folder)), FakeCover(), wayland=True))
    assert chosen.method.name == "dpms"
    assert set(chosen.rejected) == {"ddcci", "cec"}
    assert switch(chosen.method, on=False) is False
    assert switch(chosen.method, on=True) is True


def test_the_overlay_blacks_out_the_real_screen(kiosk: Kiosk, screen: VirtualScreen) -> None:
    overlay = OverlayPower(kiosk)
    kiosk.navigate("about:blank")
    wait_until(lambda: centre_colour(screen) == (255, 255, 255), "a white page")
    assert switch(overlay, on=False) is False
    wait_until(lambda: centre_colour(screen) == (0, 0, 0), "a black screen")
    assert switch(overlay, on=True) is True
    wait_until(lambda: centre_colour(screen) == (255, 255, 255), "the page again")


def test_a_method_that_cannot_read_its_state_is_refused(tmp_path: Path) -> None:
    silent = tool_dir(tmp_path, ddcutil="#!/bin/sh\nexit 0\n", cec_client="#!/bin/sh\nexit 0\n")
    tools = Tools(path=str(silent))
    for method in (DdcPower(tools), CecPower(tools)):
        with pytest.raises(PowerError, match="did not report its power state"):
            switch(method, on=True)
    assert os.access(silent / "ddcutil", os.X_OK)
