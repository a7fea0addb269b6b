"""Screen power: probe DDC/CI, HDMI-CEC, DPMS and a black overlay, in that order.

A method counts only once it has shown that it works on this screen: the probe sets the
screen on and reads the state back (a tool that is missing, fails, hangs or reads back
nothing is passed over, with the reason kept in :attr:`PowerProbe.rejected`). Tools are
looked up on ``path`` so tests (and odd installations) choose which exist.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
import json
import logging
import os
import re
import shutil
import subprocess
from typing import Any, Protocol

_LOGGER = logging.getLogger(__name__)
TOOL_TIMEOUT = 10.0


class PowerError(RuntimeError):
    """A power tool failed; the message says which and how."""


class PowerMethod(Protocol):
    """One way to switch the screen."""

    name: str

    def set_on(self, on: bool) -> None:
        """Switch the screen on or off."""

    def is_on(self) -> bool | None:
        """Return the screen's state as the screen reports it (None: it cannot tell)."""

    def set_brightness(self, percent: int) -> bool:
        """Set the brightness; return False when this method cannot."""


@dataclass
class Tools:
    """Runs the power tools found on ``path`` (PATH when None) with ``env``.

    ``path`` only says where the tools are; they run with ``env``'s own PATH.
    """

    path: str | None = None
    env: Mapping[str, str] | None = None
    timeout: float = TOOL_TIMEOUT

    def which(self, name: str) -> str | None:
        """Return the tool's full path, or None when it is not installed."""
        return shutil.which(name, path=self.path)

    def run(self, name: str, *args: str, stdin: str | None = None) -> str:
        """Run a tool; return its output; raise PowerError when it is missing or fails."""
        program = self.which(name)
        if program is None:
            raise PowerError(f"{name} is not installed")
        env = dict(self.env if self.env is not None else os.environ)
        try:
            done = subprocess.run(  # noqa: S603 (a tool found on PATH, fixed arguments)
                [program, *args],
                input=stdin,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired as err:
            raise PowerError(f"{name} {' '.join(args)} took over {self.timeout} s") from err
        except OSError as err:
            raise PowerError(f"{name} could not run: {err}") from err
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise PowerError(f"{name} {' '.join(args)} exited {done.returncode}: {detail[0]}")
        return done.stdout


@dataclass
class DdcPower:
    """DDC/CI over the monitor's cable (``ddcutil``, VCP D6 power mode, 10 brightness)."""

    tools: Tools
    name: str = "ddcci"

    def set_on(self, on: bool) -> None:
        self.tools.run("ddcutil", "setvcp", "d6", "01" if on else "04")

    def is_on(self) -> bool | None:
        out = self.tools.run("ddcutil", "getvcp", "d6", "--brief")
        match = re.search(r"\bx([0-9a-fA-F]{2})\b", out)
        return None if match is None else int(match.group(1), 16) == 1

    def set_brightness(self, percent: int) -> bool:
        self.tools.run("ddcutil", "setvcp", "10", str(percent))
        return True


@dataclass
class CecPower:
    """HDMI-CEC to the TV at logical address 0 (``cec-client`` from libcec)."""

    tools: Tools
    name: str = "cec"

    def _send(self, command: str) -> str:
        return self.tools.run("cec-client", "-s", "-d", "1", stdin=f"{command}\n")

    def set_on(self, on: bool) -> None:
        self._send("on 0" if on else "standby 0")

    def is_on(self) -> bool | None:
        match = re.search(r"power status:\s*(\S+)", self._send("pow 0"))
        return None if match is None else match.group(1) == "on"

    def set_brightness(self, percent: int) -> bool:
        return False


@dataclass
class DpmsPower:
    """The display server's power saving.

    X11: ``xset``. Wayland: ``wlopm`` where installed (any compositor with the
    wlr-output-power-management protocol), else ``swaymsg`` on sway (the agent runs in
    the sway session, so ``SWAYSOCK`` is set). Sway 1.8 and later call it ``power``,
    sway 1.7 (Debian bookworm) ``dpms``; the readback says which this sway knows.
    """

    tools: Tools
    wayland: bool = False
    name: str = "dpms"

    def set_on(self, on: bool) -> None:
        if not self.wayland:
            self.tools.run("xset", "+dpms")
            self.tools.run("xset", "dpms", "force", "on" if on else "off")
        elif self.tools.which("wlopm"):
            self.tools.run("wlopm", "--on" if on else "--off", "*")
        else:
            key = self._sway_key(self._sway_outputs())
            # -p: a refused command exits 2 with "Error: <reason>" (PowerError says it)
            self.tools.run("swaymsg", "-p", "output", "*", key, "on" if on else "off")

    def is_on(self) -> bool | None:
        if not self.wayland:
            report = self.tools.run("xset", "q")
            if "does not have the DPMS Extension" in report:  # xset exits 0 all the same
                raise PowerError("dpms: the X server has no DPMS extension")
            match = re.search(r"Monitor is (\w+)", report)
            return None if match is None else match.group(1) == "On"
        if self.tools.which("wlopm"):
            states = re.findall(r"^\S+\s+(on|off)\s*$", self.tools.run("wlopm"), re.MULTILINE)
            return None if not states else all(s == "on" for s in states)
        outputs = self._sway_outputs()
        key = self._sway_key(outputs)
        states = [o[key] for o in outputs if o.get("active") and isinstance(o.get(key), bool)]
        return None if not states else all(states)

    def set_brightness(self, percent: int) -> bool:
        return False

    def _sway_outputs(self) -> list[dict[str, Any]]:
        if self.tools.which("swaymsg") is None:
            raise PowerError("dpms: neither wlopm nor swaymsg is installed")
        if not (self.tools.env if self.tools.env is not None else os.environ).get("SWAYSOCK"):
            raise PowerError("dpms: no wlopm, and this is not a sway session (no SWAYSOCK)")
        text = self.tools.run("swaymsg", "-r", "-t", "get_outputs")
        try:
            outputs = json.loads(text)
        except ValueError as err:
            raise PowerError(f"swaymsg -t get_outputs: not JSON ({err})") from err
        if not isinstance(outputs, list):
            raise PowerError("swaymsg -t get_outputs: not a list of outputs")
        return [o for o in outputs if isinstance(o, dict)]

    @staticmethod
    def _sway_key(outputs: list[dict[str, Any]]) -> str:
        return "dpms" if any("dpms" in o and "power" not in o for o in outputs) else "power"


class Blanker(Protocol):
    """What the overlay needs from the kiosk."""

    def set_blank(self, blank: bool) -> None: ...

    def is_blank(self) -> bool: ...


@dataclass
class OverlayPower:
    """The last resort: a black page cover (the backlight stays on)."""

    kiosk: Blanker
    name: str = "overlay"

    def set_on(self, on: bool) -> None:
        self.kiosk.set_blank(not on)

    def is_on(self) -> bool | None:
        return not self.kiosk.is_blank()

    def set_brightness(self, percent: int) -> bool:
        return False


@dataclass
class PowerProbe:
    """The method chosen and why the ones before it were not."""

    method: PowerMethod
    rejected: dict[str, str] = field(default_factory=dict)


def verify(method: PowerMethod) -> None:
    """Switch the screen on and read it back; raise PowerError unless it reads on."""
    method.set_on(True)
    state = method.is_on()
    if state is None:
        raise PowerError(f"{method.name}: the screen did not report its power state")
    if not state:
        raise PowerError(f"{method.name}: switched on, the screen still reads off")


def candidates(tools: Tools, kiosk: Blanker, *, wayland: bool) -> list[PowerMethod]:
    """Return the methods in the order they are tried."""
    return [DdcPower(tools), CecPower(tools), DpmsPower(tools, wayland), OverlayPower(kiosk)]


def probe(
    methods: Sequence[PowerMethod], check: Callable[[PowerMethod], None] = verify
) -> PowerProbe:
    """Return the first method that passes ``check`` (the last one is the fallback)."""
    rejected: dict[str, str] = {}
    for method in methods[:-1]:
        try:
            check(method)
        except PowerError as err:
            rejected[method.name] = str(err)
            _LOGGER.info("power method %s not used: %s", method.name, err)
            continue
        return PowerProbe(method, rejected)
    return PowerProbe(methods[-1], rejected)


def switch(method: PowerMethod, on: bool) -> bool:
    """Switch the screen and return the state it reads back (what ``screen_on`` reports)."""
    method.set_on(on)
    state = method.is_on()
    if state is None:
        raise PowerError(f"{method.name}: the screen did not report its power state")
    if state != on:
        _LOGGER.warning("%s: asked %s, the screen reads %s", method.name, on, state)
    return state
