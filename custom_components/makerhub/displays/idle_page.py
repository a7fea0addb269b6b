"""The idle page's HTML: the space's logo, a large clock and whether the space is active,
made to be read across a room on a TV (sizes in viewport units, high contrast).

The clock is the display's own (its browser's time); the space's state is polled from
the status address every :data:`POLL_SECONDS` and shown as it changes.

The texts come from the integration's translations (``selector.display_idle_page`` in
``strings.json``) in Home Assistant's language, English where a language has none; the
clock and the date are written in that language by the browser.
"""

from __future__ import annotations

import html
import json
from typing import Final

POLL_SECONDS: Final = 10
TEXT_KEYS: Final = ("active", "quiet", "unknown")
"""The page's texts: the space active, quiet, and Home Assistant not answering."""

_PAGE: Final = """<!doctype html>
<html lang="{language}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Makerhub · {name}</title>
<style>
  html, body {{ margin: 0; height: 100%; background: #0d2137; color: #f2f5fa;
    font-family: system-ui, sans-serif; cursor: none; overflow: hidden; }}
  main {{ height: 100%; display: flex; flex-direction: column; align-items: center;
    justify-content: center; gap: 3vh; }}
  img {{ height: 16vh; max-width: 70vw; object-fit: contain; }}
  #clock {{ font-size: 22vh; font-weight: 600; line-height: 1;
    font-variant-numeric: tabular-nums; }}
  #date {{ font-size: 4.5vh; opacity: .85; }}
  #space {{ font-size: 6vh; font-weight: 600; padding: 1vh 4vh; border-radius: 6vh; }}
  #space[data-active="true"] {{ background: #1e7d32; }}
  #space[data-active="false"] {{ background: #37474f; }}
  #space[data-active="unknown"] {{ background: #5d4037; }}
  .name {{ font-size: 3.5vh; opacity: .7; }}
</style></head>
<body data-makerhub-idle="hub"><main>
  <img src="data:image/png;base64,{logo}" alt="Makerhub">
  <div id="clock"></div>
  <div id="date"></div>
  <div id="space" data-active="unknown">…</div>
  <div class="name">{name}</div>
</main>
<script>
  const statusUrl = {status_url};
  const texts = {texts};
  const labels = {{true: texts.active, false: texts.quiet, unknown: texts.unknown}};
  const locale = (() => {{
    try {{ return Intl.DateTimeFormat.supportedLocalesOf([{language_json}]); }}
    catch (err) {{ return []; }}  // not a language tag the browser knows: its own
  }})();
  const tick = () => {{
    const now = new Date();
    document.getElementById("clock").textContent =
      now.toLocaleTimeString(locale, {{hour: "2-digit", minute: "2-digit"}});
    document.getElementById("date").textContent =
      now.toLocaleDateString(locale, {{weekday: "long", day: "numeric", month: "long"}});
  }};
  const show = (state) => {{
    const space = document.getElementById("space");
    space.dataset.active = state;
    space.textContent = labels[state];
  }};
  const poll = async () => {{
    try {{
      const answer = await fetch(statusUrl, {{cache: "no-store"}});
      if (!answer.ok) throw new Error(String(answer.status));
      show(String((await answer.json()).active));
    }} catch (err) {{
      show("unknown");
    }}
  }};
  tick(); setInterval(tick, 1000);
  poll(); setInterval(poll, {poll_ms});
</script></body></html>
"""


def _script_json(value: object) -> str:
    # In a <script>: JSON with "<" escaped cannot end the script element.
    return json.dumps(value).replace("<", "\\u003c")


def idle_page(
    display_name: str,
    logo_base64: str,
    status_url: str,
    language: str,
    texts: dict[str, str],
) -> str:
    """Return the idle page of a display, in ``language`` (a BCP 47 tag such as ``de``)
    with ``texts`` (one per :data:`TEXT_KEYS`)."""
    return _PAGE.format(
        name=html.escape(display_name),
        logo=logo_base64,
        language=html.escape(language),
        language_json=_script_json(language),
        texts=_script_json({key: texts[key] for key in TEXT_KEYS}),
        status_url=_script_json(status_url),
        poll_ms=POLL_SECONDS * 1000,
    )
