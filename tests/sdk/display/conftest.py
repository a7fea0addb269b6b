"""Fixtures for the display agent: a virtual screen, a kiosk on it, pages to show."""

from __future__ import annotations

from collections.abc import Callable, Iterator
import http.server
from pathlib import Path
import threading
import time
from typing import Any

import pytest

from dev.processes.desktops_process import DesktopsServiceProcess
from makerhub_display.browser import Kiosk
from tests.helpers.desktops_service import bare_repo
from tests.helpers.xvfb import VirtualScreen, xvfb

CHROMIUM = "/usr/bin/chromium"
NOVNC_CONNECTED = "!!document.documentElement?.classList.contains('noVNC_connected')"
CHROMIUM_ARGS = ("--no-sandbox", "--disable-background-networking", "--disable-gpu")
# A page like a Home Assistant dashboard (a header bar, cards), and HA's idle page.
PAGES = {
    "/lovelace/workbench": (
        "<!doctype html><body style='margin:0;background:#fafafa' data-page='dashboard'>"
        "<header style='height:56px;background:#03a9f4'></header>"
        "<div style='margin:16px;width:300px;height:200px;background:#ffffff;"
        "box-shadow:0 2px 4px #888'></div></body>"
    ),
    "/api/makerhub/display/idle": (
        "<!doctype html><body style='margin:0;background:#204080' data-page='ha-idle'>"
        "<h1 style='color:#fff'>Makerhub</h1></body>"
    ),
    # Stands for the hub's desktop redirect (the e2e test has the real one).
    "/api/makerhub/display/desktop": (
        "<!doctype html><body style='margin:0;background:#303030' data-page='hub-desktop'></body>"
    ),
}


class _PageHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        page = PAGES.get(self.path.split("?")[0])
        body = (page or "not found").encode()
        self.send_response(200 if page else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's name)
        pass


@pytest.fixture
def screen() -> Iterator[VirtualScreen]:
    """A 1024 x 600 virtual screen."""
    with xvfb() as virtual:
        yield virtual


@pytest.fixture
def kiosk(screen: VirtualScreen, tmp_path: Path) -> Iterator[Kiosk]:
    """Debian's Chromium in kiosk mode on the virtual screen."""
    kiosk = Kiosk(
        tmp_path / "chromium", executable=CHROMIUM, extra_args=CHROMIUM_ARGS, env=screen.env
    )
    kiosk.start(watch_interval=0.2)
    yield kiosk
    kiosk.stop()


class PageServer:
    """A local web server with a dashboard-like page and Home Assistant's display pages."""

    def __init__(self) -> None:
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving (Home Assistant gone); a second call does nothing."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(10)


@pytest.fixture
def page_server(socket_enabled: None) -> Iterator[PageServer]:
    """The pages, served until the test ends."""
    server = PageServer()
    yield server
    server.stop()


@pytest.fixture
def pages(page_server: PageServer) -> str:
    """The pages' base URL."""
    return page_server.url


def wait_until(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    """Return ``check()``'s first truthy value; fail saying ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def centre_colour(screen: VirtualScreen, y: int | None = None) -> tuple[int, int, int]:
    """Return the colour of the screen's pixel in the middle (at ``y`` if given)."""
    colour = screen.grab().getpixel((screen.width // 2, screen.height // 2 if y is None else y))
    assert isinstance(colour, tuple)
    return colour[0], colour[1], colour[2]


def viewer_connect_url(service: DesktopsServiceProcess, project: str = "bench") -> str:
    """Start a desktop on the real desktops service; return a viewer's connect URL."""
    status, desktop = service.call(
        "POST", f"/api/desktops/{project}/start", {"repository": {"url": bare_repo(service)}}
    )
    assert (status, desktop["state"]) == (200, "running"), desktop
    status, grant = service.call("POST", f"/api/desktops/{project}/connect", {"role": "viewer"})
    assert status == 201, grant
    return f"{service.url}/{grant['url']}"
