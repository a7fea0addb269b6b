"""The kiosk under Xvfb with Debian's Chromium: idle, a real desktop, a dashboard."""

from __future__ import annotations

import os
from pathlib import Path
import signal
import time

from makerhub_display.browser import Kiosk
from makerhub_display.idle import write_fallback
from tests.helpers.desktops_service import desktops_service
from tests.helpers.xvfb import VirtualScreen

from .conftest import NOVNC_CONNECTED, centre_colour, viewer_connect_url, wait_until

FALLBACK_BACKGROUND = (0x10, 0x14, 0x1C)
CLOCK_TEXT = "document.getElementById('clock').textContent"


def page_marker(kiosk: Kiosk) -> str | None:
    marker = kiosk.evaluate("document.body && document.body.dataset.page || null")
    return marker if isinstance(marker, str) else None


def test_idle_then_a_real_desktop_then_a_dashboard(
    kiosk: Kiosk, screen: VirtualScreen, pages: str, tmp_path: Path
) -> None:
    # The built-in idle page: the logo, a clock, dark background filling the screen.
    kiosk.navigate(write_fallback(tmp_path / "state", "Workbench"))
    wait_until(lambda: centre_colour(screen, 10) == FALLBACK_BACKGROUND, "the idle page")
    assert kiosk.evaluate("document.querySelector('.logo').textContent") == "MAKERHUB"
    clock = wait_until(lambda: kiosk.evaluate(CLOCK_TEXT), "the clock's time")
    assert ":" in clock
    assert screen.grab().size == (1024, 600)

    # A real desktop from the desktops service, as a viewer through its connect URL.
    with desktops_service() as service:
        kiosk.navigate(viewer_connect_url(service))
        wait_until(lambda: kiosk.evaluate(NOVNC_CONNECTED), "noVNC connected", timeout=120)
        status, record = service.call("GET", "/api/desktops/bench")
        assert (status, record["viewers"]) == (200, 1), record
        # The screen shows the desktop (its panel, windows): many colours, not one.
        colours = wait_until(
            lambda: len(screen.grab().getcolors(maxcolors=1 << 16) or range(1 << 16)) > 20,
            "a desktop frame on the screen",
        )
        assert colours

        # A dashboard-like page: its blue header across the top of the screen.
        kiosk.navigate(f"{pages}/lovelace/workbench")
        wait_until(lambda: page_marker(kiosk) == "dashboard", "the dashboard")
        wait_until(lambda: centre_colour(screen, 20) == (0x03, 0xA9, 0xF4), "the header bar")
        # The desktop's viewer left when the kiosk navigated away.
        wait_until(
            lambda: service.call("GET", "/api/desktops/bench")[1]["viewers"] == 0, "viewer gone"
        )


def test_chromium_killed_comes_back_showing_the_same_page(
    kiosk: Kiosk, screen: VirtualScreen, pages: str
) -> None:
    kiosk.navigate(f"{pages}/lovelace/workbench")
    wait_until(lambda: page_marker(kiosk) == "dashboard", "the dashboard")
    first = kiosk.pid
    assert first is not None
    os.killpg(first, signal.SIGKILL)
    wait_until(lambda: kiosk.restarts == 1 and kiosk.pid not in (None, first), "a new Chromium")
    wait_until(lambda: page_marker(kiosk) == "dashboard", "the dashboard again")
    wait_until(lambda: centre_colour(screen, 20) == (0x03, 0xA9, 0xF4), "the header bar")


def test_the_black_cover_stays_over_a_new_page(
    kiosk: Kiosk, screen: VirtualScreen, pages: str
) -> None:
    kiosk.navigate(f"{pages}/lovelace/workbench")
    wait_until(lambda: page_marker(kiosk) == "dashboard", "the dashboard")
    kiosk.set_blank(True)
    assert kiosk.is_blank()
    wait_until(lambda: centre_colour(screen, 20) == (0, 0, 0), "a black screen")
    kiosk.navigate(f"{pages}/api/makerhub/display/idle")
    wait_until(lambda: page_marker(kiosk) == "ha-idle", "the idle page")
    wait_until(kiosk.is_blank, "the cover on the new page")
    wait_until(lambda: centre_colour(screen) == (0, 0, 0), "the new page covered")
    kiosk.set_blank(False)
    wait_until(lambda: centre_colour(screen, 20) == (0x20, 0x40, 0x80), "the idle page shown")


def test_input_on_the_page_is_reported_as_touch(kiosk: Kiosk, pages: str) -> None:
    touches: list[int] = []
    kiosk.on_touch = lambda: touches.append(1)
    kiosk.navigate(f"{pages}/lovelace/workbench")
    wait_until(lambda: page_marker(kiosk) == "dashboard", "the dashboard")
    assert touches == []

    def tap() -> bool:
        """A real input event, as a touch screen's would arrive; tapped again every few
        seconds until reported (once, under heavy load, a first tap was not reported
        within a minute; the cause is not known yet)."""
        for kind in ("mousePressed", "mouseReleased"):
            kiosk._live_pipe().call(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": 100, "y": 100, "button": "left", "clickCount": 1},
            )
        return wait_for_touch(5.0)

    def wait_for_touch(seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while not touches and time.monotonic() < deadline:
            time.sleep(0.1)
        return bool(touches)

    wait_until(tap, "the touch report")
