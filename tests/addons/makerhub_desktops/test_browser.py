"""noVNC in headless Chromium (Debian's, driven by Playwright) through the service's proxy."""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
import io
from pathlib import Path
import shutil

from PIL import Image
from playwright.async_api import Page, async_playwright

from .conftest import Service
from .rfbclient import wait_for
from .test_desktop import wait_for_terminal

CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking"]
CONNECTED = "document.documentElement.classList.contains('noVNC_connected')"


@contextlib.asynccontextmanager
async def browser_page() -> AsyncIterator[Page]:
    """A 1280 x 800 page in Debian's Chromium (headless), closed at the end."""
    chromium = shutil.which("chromium")
    assert chromium, "chromium is missing: scripts/lib/bootstrap.sh installs it"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield await browser.new_page(viewport={"width": 1280, "height": 800})
        finally:
            await browser.close()


async def test_a_controller_types_in_the_browser(service: Service, repo: Path) -> None:
    await service.start("alpha", f"file://{repo}")
    desktop = service.manager.get("alpha")
    await wait_for_terminal(service, "alpha")
    status, answer = await service.call(
        "POST", "/api/desktops/alpha/connect", json={"role": "controller"}
    )
    assert status == 201
    async with browser_page() as page:
        await page.goto(f"{service.base}/{answer['url']}")
        await page.wait_for_function(CONNECTED, timeout=20_000)
        await wait_for(lambda: desktop.controllers == 1)
        await page.mouse.click(200, 200)
        await page.keyboard.type("echo from-the-browser > ~/workspace/browser.txt")
        await page.keyboard.press("Enter")
        typed = desktop.paths.workspace / "browser.txt"
        await wait_for(typed.exists)
        await wait_for(lambda: typed.read_text() == "from-the-browser\n")
        shot = Image.open(io.BytesIO(await page.screenshot()))
    # The page shows the desktop: many colours (panel, terminal text), not a blank page.
    colours = shot.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 20
    await wait_for(lambda: desktop.controllers == 0)


async def test_a_viewer_in_the_browser_sees_but_does_not_type(service: Service, repo: Path) -> None:
    await service.start("alpha", f"file://{repo}")
    desktop = service.manager.get("alpha")
    await wait_for_terminal(service, "alpha")
    status, answer = await service.call(
        "POST", "/api/desktops/alpha/connect", json={"role": "viewer"}
    )
    assert status == 201
    async with browser_page() as page:
        await page.goto(f"{service.base}/{answer['url']}")
        await page.wait_for_function(CONNECTED, timeout=20_000)
        assert desktop.viewers == 1
        # Even with noVNC's own view-only switched off in the page, nothing gets through.
        unchecked = await page.evaluate(
            """() => {
                const box = document.getElementById('noVNC_setting_view_only');
                box.checked = false;
                box.dispatchEvent(new Event('change'));
                return !box.checked;
            }"""
        )
        assert unchecked
        await page.mouse.click(200, 200)
        await page.keyboard.type("echo from-a-viewer > ~/workspace/viewer.txt")
        await page.keyboard.press("Enter")
        await page.wait_for_timeout(1500)
    assert not (desktop.paths.workspace / "viewer.txt").exists()
    assert desktop.dropped_input > 40  # the page did send its keys; the proxy dropped them


def changed_pixels(before: Image.Image, after: Image.Image, box: tuple[int, ...]) -> float:
    """Return the share of the pixels in ``box`` that differ clearly between two shots."""
    left, right = before.convert("RGB").crop(box), after.convert("RGB").crop(box)
    pairs = list(zip(left.getdata(), right.getdata(), strict=True))
    changed = sum(1 for a, b in pairs if max(abs(x - y) for x, y in zip(a, b, strict=True)) > 40)
    return changed / len(pairs)


KIOSK_STATE = """() => {
    const visible = (id) => getComputedStyle(document.getElementById(id)).display !== 'none';
    return {
        style: !!document.getElementById('makerhub-kiosk'),
        bar: visible('noVNC_control_bar_anchor'),
        status: visible('noVNC_status'),
        statusText: document.getElementById('noVNC_status').textContent,
    };
}"""
SETTLED = """() => {
    const handle = document.getElementById('noVNC_control_bar_handle').getBoundingClientRect();
    return handle.width > 0 && document.getAnimations().every((a) => a.playState !== 'running');
}"""


async def test_the_kiosk_page_shows_the_desktop_without_novncs_control_bar(
    service: Service, repo: Path
) -> None:
    """What a display gets (``kiosk=1``): the desktop alone, no side tab, no banner."""
    await service.start("alpha", f"file://{repo}")
    desktop = service.manager.get("alpha")
    await wait_for_terminal(service, "alpha")
    token = await service.connect_token("alpha", "viewer")
    async with browser_page() as page:
        await page.goto(f"{service.base}/desktop?token={token}&kiosk=1")
        await page.wait_for_function(CONNECTED, timeout=20_000)
        assert desktop.viewers == 1
        state = await page.evaluate(KIOSK_STATE)
        assert state["statusText"].startswith("Connected")  # noVNC did say it…
        assert state == {**state, "style": True, "bar": False, "status": False}  # …unseen
        kiosk_shot = Image.open(io.BytesIO(await page.screenshot()))
        # Without the kiosk style, the same page shows the control bar's tab there.
        await page.evaluate("document.getElementById('makerhub-kiosk').remove()")
        await page.wait_for_function(SETTLED, timeout=20_000)
        box = await page.evaluate(
            """() => {
                const r = document.getElementById('noVNC_control_bar_handle')
                    .getBoundingClientRect();
                return [r.left, r.top, r.right, r.bottom].map(Math.round);
            }"""
        )
        plain_shot = Image.open(io.BytesIO(await page.screenshot()))
    left, top, right, bottom = box
    handle = (max(left, 0), max(top, 0), min(right, 1280), min(bottom, 800))
    assert handle[2] - handle[0] >= 5, box
    assert handle[3] - handle[1] >= 20, box
    assert changed_pixels(kiosk_shot, plain_shot, handle) > 0.5  # the tab: absent, then there
    # The kiosk shot shows the desktop itself: many colours, as the control bar has few.
    colours = kiosk_shot.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 20
