"""The idle page in Home Assistant's language: its texts from the integration's
translations (English where a language has none), its clock and date written by the
browser in that language (Debian's Chromium, its clock frozen)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
import json
from pathlib import Path
import shutil

from homeassistant.core import HomeAssistant
from playwright.sync_api import Page, sync_playwright
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerhub.core.displays import idle_page_path
from custom_components.makerhub.displays.idle_page import TEXT_KEYS, idle_page
from custom_components.makerhub.displays.manager import async_page_key

from .conftest import WORKBENCH

ENGLISH = json.loads(
    (Path(__file__).parents[4] / "custom_components/makerhub/translations/en.json").read_text()
)["selector"]["display_idle_page"]["options"]
GERMAN = {
    "active": "Der Raum ist belebt",
    "quiet": "Der Raum ist ruhig",
    "unknown": "Home Assistant antwortet nicht",
}
# A Monday afternoon (UTC; the browser runs in UTC below).
FROZEN = datetime(2026, 3, 2, 14, 5, tzinfo=UTC)


def test_every_text_the_page_needs_is_translated_in_english() -> None:
    assert set(ENGLISH) == set(TEXT_KEYS)
    assert ENGLISH["active"] == "The space is active"


@pytest.mark.parametrize("language", ["en", "de", "pt-BR"])
async def test_the_page_follows_home_assistants_language_with_english_texts_as_fallback(
    hass: HomeAssistant,
    hub: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    language: str,
) -> None:
    """The integration has English texts only: every language gets them (Home
    Assistant's fallback), and the page is marked with the language for its date."""
    hass.config.language = language
    client = await hass_client_no_auth()
    answer = await client.get(idle_page_path(await async_page_key(hass), WORKBENCH))
    page = await answer.text()
    assert f'<html lang="{language}">' in page
    assert f"const texts = {json.dumps(ENGLISH)};" in page
    assert f"supportedLocalesOf([{json.dumps(language)}])" in page


def test_texts_and_language_cannot_end_the_script() -> None:
    texts = dict(GERMAN, quiet="</script><script>alert(1)</script>")
    page = idle_page("<b>Bench</b>", "", "/status", 'de"><x', texts)
    assert "</script><script>alert" not in page
    assert "\\u003c/script>" in page
    assert '<html lang="de&quot;&gt;&lt;x">' in page
    assert "&lt;b&gt;Bench&lt;/b&gt;" in page


@pytest.fixture
def browser_page() -> Iterator[Page]:
    chromium = shutil.which("chromium")
    assert chromium, "chromium is missing: scripts/lib/bootstrap.sh installs it"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-background-networking"]
        )
        try:
            context = browser.new_context(timezone_id="UTC", locale="en-US")
            page = context.new_page()
            page.clock.install(time=FROZEN)
            yield page
        finally:
            browser.close()


@pytest.mark.parametrize(
    ("language", "texts", "clock", "date", "unknown"),
    [
        ("de", GERMAN, "14:05", "Montag, 2. März", "Home Assistant antwortet nicht"),
        ("en", ENGLISH, "02:05 PM", "Monday, March 2", "Home Assistant is not answering"),
        # A tag the browser rejects: its own language (en-US here), not a broken page.
        ("xx-!!", ENGLISH, "02:05 PM", "Monday, March 2", "Home Assistant is not answering"),
    ],
)
def test_the_browser_writes_the_page_in_its_language(
    browser_page: Page,
    language: str,
    texts: dict[str, str],
    clock: str,
    date: str,
    unknown: str,
) -> None:
    # No status server: the page says Home Assistant is not answering, in its language.
    browser_page.set_content(
        idle_page("Workbench", "", "http://127.0.0.1:9/status", language, texts)
    )
    browser_page.wait_for_function(
        "document.getElementById('space').dataset.active === 'unknown' &&"
        " document.getElementById('space').textContent !== '…'",
        timeout=30_000,
    )
    assert browser_page.inner_text("#clock") == clock
    assert browser_page.inner_text("#date") == date
    assert browser_page.inner_text("#space") == unknown
