"""Screenshot pages of the running dev instance, logged in as dev / makerhub.

    .venv/bin/python -m dev.screenshot /config/integrations/integration/makerhub hub.png

Drives Debian's ``chromium`` (``apt-get install chromium``) with Playwright; Playwright's
own browser downloads are never used.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
import shutil
import sys
from typing import TYPE_CHECKING

from .processes.hass_process import DEV_PASSWORD, DEV_USER

if TYPE_CHECKING:
    from playwright.async_api import Page

CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking"]


async def log_in(page: Page, base_url: str, path: str = "/") -> None:
    """Open ``path`` and log in through Home Assistant's login page as dev / makerhub."""
    await page.goto(f"{base_url}{path}")
    await page.wait_for_selector("input[name=username]", timeout=60_000)
    await page.fill("input[name=username]", DEV_USER)
    await page.fill("input[name=password]", DEV_PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_selector("home-assistant-main", timeout=60_000)


async def screenshot(base_url: str, shots: list[tuple[str, Path]], settle: float) -> None:
    """Log in once, then open each path and save a full-page screenshot."""
    from playwright.async_api import async_playwright  # a develop.txt package

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is not installed: apt-get install chromium")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1400, "height": 1000})
        await log_in(page, base_url)
        for path, output in shots:
            await page.goto(f"{base_url}{path}")
            await page.wait_for_timeout(settle * 1000)
            await page.screenshot(path=str(output), full_page=True)
            print(f"{path} → {output}")
        await browser.close()


def main() -> int:
    """Parse PATH OUTPUT pairs and take the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("pairs", nargs="+", help="PATH OUTPUT.png, one pair per page")
    parser.add_argument("--url", default="http://127.0.0.1:8123")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds a page gets to load")
    args = parser.parse_args()
    if len(args.pairs) % 2:
        parser.error("give PATH OUTPUT pairs")
    pairs = args.pairs
    shots = [(pairs[i], Path(pairs[i + 1])) for i in range(0, len(pairs), 2)]
    asyncio.run(screenshot(args.url, shots, args.settle))
    return 0


if __name__ == "__main__":
    sys.exit(main())
