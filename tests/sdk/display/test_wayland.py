"""The agent on Wayland: Debian's headless sway, Chromium on it, DPMS through ``swaymsg``.

Sway's own report (``swaymsg -t get_outputs``: ``dpms`` in 1.7, ``power`` from 1.8) is
the readback. Debian bookworm's sway 1.7 runs on wlroots 0.15, whose headless backend
cannot disable an output ("Unsupported output state fields: 0x8"): ``swaymsg`` says
success, the output stays on, and the readback is what tells. The agent then reports the
screen as still on, counts the failure and says so in the unit's log.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
import shutil

import pytest

from dev.processes.mosquitto import MosquittoBroker
from makerhub_display.agent import MAKERHUB_JSON, DisplayAgent
from makerhub_display.browser import Kiosk
from makerhub_display.idle import write_fallback
from makerhub_display.power import DpmsPower, PowerError, Tools, candidates, probe, switch
from makerhub_display.targets import Sources
from makerhub_unit import Unit
from tests.helpers.sway import SwayScreen, headless_sway
from tests.sdk.wire import FakeHub, Recorder

from .conftest import CHROMIUM, CHROMIUM_ARGS, wait_until
from .test_kiosk import FALLBACK_BACKGROUND
from .test_power import WLOPM, FakeCover

WAYLAND_ARGS = (*CHROMIUM_ARGS, "--ozone-platform=wayland")


@pytest.fixture
def sway() -> Iterator[SwayScreen]:
    """A 1024 x 600 headless sway."""
    with headless_sway() as screen:
        yield screen


def sway_tools(tmp_path: Path, sway: SwayScreen) -> Tools:
    """Tools that find the real ``swaymsg`` (and no ``wlopm``, which bookworm lacks)."""
    folder = tmp_path / "bin"
    folder.mkdir(parents=True, exist_ok=True)
    real = shutil.which("swaymsg")
    assert real, "swaymsg is missing: scripts/lib/bootstrap.sh installs sway"
    (folder / "swaymsg").symlink_to(real)
    return Tools(path=str(folder), env=sway.env)


def sway_power(sway: SwayScreen) -> bool:
    """Return whether sway reports every active output powered (its own words)."""
    outputs = [o for o in sway.outputs() if o.get("active")]
    assert outputs, "sway has no active output"
    key = "power" if "power" in outputs[0] else "dpms"
    return all(o[key] is True for o in outputs)


def test_the_probe_picks_dpms_through_swaymsg_on_sway(tmp_path: Path, sway: SwayScreen) -> None:
    chosen = probe(candidates(sway_tools(tmp_path, sway), FakeCover(), wayland=True))
    assert chosen.method.name == "dpms"
    assert chosen.rejected == {
        "ddcci": "ddcutil is not installed",
        "cec": "cec-client is not installed",
    }
    assert chosen.method.is_on() is True
    assert sway_power(sway) is True


def test_wlopm_comes_before_swaymsg_where_both_are(tmp_path: Path, sway: SwayScreen) -> None:
    tools = sway_tools(tmp_path, sway)
    assert tools.path is not None
    wlopm = Path(tools.path) / "wlopm"
    wlopm.write_text(WLOPM)
    wlopm.chmod(0o755)
    dpms = DpmsPower(tools, wayland=True)
    assert switch(dpms, on=False) is False
    assert (Path(tools.path) / "state").read_text().strip() == "off"
    assert sway_power(sway) is True  # sway itself was not asked


def test_without_sway_or_wlopm_dpms_is_passed_over(tmp_path: Path, sway: SwayScreen) -> None:
    no_tools = Tools(path=str(tmp_path), env=sway.env)
    with pytest.raises(PowerError, match="neither wlopm nor swaymsg is installed"):
        DpmsPower(no_tools, wayland=True).is_on()
    not_sway = sway_tools(tmp_path, sway)
    not_sway.env = {k: v for k, v in sway.env.items() if k != "SWAYSOCK"}
    with pytest.raises(PowerError, match="not a sway session"):
        DpmsPower(not_sway, wayland=True).set_on(True)


def test_a_command_sway_refuses_is_a_power_error(tmp_path: Path, sway: SwayScreen) -> None:
    tools = sway_tools(tmp_path, sway)
    with pytest.raises(PowerError, match="exited 2: Error: Invalid output subcommand"):
        tools.run("swaymsg", "-p", "output", "*", "no-such-subcommand", "on")


def test_screen_off_and_on_through_the_agent_with_sways_readback(
    tmp_path: Path,
    sway: SwayScreen,
    broker: MosquittoBroker,
    hub: FakeHub,
    recorder: Recorder,
) -> None:
    kiosk = Kiosk(tmp_path / "chromium", executable=CHROMIUM, extra_args=WAYLAND_ARGS, env=sway.env)
    kiosk.start(watch_interval=0.2)
    unit = Unit.announcing(
        "display-wayland",
        broker.host,
        broker.port,
        schema=MAKERHUB_JSON,
        state_dir=tmp_path / "state",
        name="Wayland display",
        model="makerhub-display",
        state_interval=0.5,
        version="0.1.0",
    )
    chosen = probe(candidates(sway_tools(tmp_path, sway), kiosk, wayland=True))
    agent = DisplayAgent(
        unit,
        kiosk,
        chosen.method,
        Sources(),
        write_fallback(tmp_path / "state", "Wayland"),
        check_interval=0.2,
    )
    agent.start()
    unit.start(timeout=0)
    try:
        assert unit.wait_ready(60)
        hub.wait_adopted(1)
        out, inp = f"makerhub/{unit.uid}/out", f"makerhub/{unit.uid}/in"
        assert recorder.wait_texts(f"{out}/power_method", timeout=30) == ["dpms"]

        # The idle page, as the compositor has it (grim): full screen, its dark background.
        wait_until(lambda: agent.showing == "idle", "the idle page")
        wait_until(
            lambda: sway.grab().getpixel((sway.width // 2, 10)) == FALLBACK_BACKGROUND,
            "the idle page on the Wayland screen",
        )
        shot = sway.grab()
        shot.save(tmp_path / "idle.png")
        assert shot.size == (1024, 600)
        assert shot.getpixel((5, sway.height - 5)) == FALLBACK_BACKGROUND

        recorder.publish(f"{inp}/screen", "false")
        reported = wait_until(lambda: recorder.texts(f"{out}/screen_on"), "screen_on after off")
        powered = sway_power(sway)
        assert reported == [str(powered).lower()], "screen_on is sway's own readback"
        if powered:
            # bookworm's wlroots 0.15: the headless output cannot be disabled
            assert "Failed to commit output HEADLESS-1" in sway.log_path.read_text()
            refusal = "screen off: dpms switched it, the screen still reads on"
            wait_until(
                lambda: refusal in "\n".join(recorder.texts(f"makerhub/{unit.uid}/sys/log")),
                "the refusal in the unit's log",
            )
            assert agent.counters.power_failures == 1
        else:
            assert agent.counters.power_failures == 0

        recorder.publish(f"{inp}/screen", "true")
        wait_until(lambda: len(recorder.texts(f"{out}/screen_on")) == 2, "screen_on after on")
        assert recorder.texts(f"{out}/screen_on")[-1] == "true"
        assert sway_power(sway) is True
        assert switch(chosen.method, on=True) is True
        wait_until(
            lambda: sway.grab().getpixel((sway.width // 2, 10)) == FALLBACK_BACKGROUND,
            "the idle page still shown",
        )
    finally:
        agent.stop()
        unit.stop()
        kiosk.stop()
