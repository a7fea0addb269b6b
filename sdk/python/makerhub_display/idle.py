"""The built-in idle page, shown when Home Assistant's cannot be reached."""

from __future__ import annotations

import html
from pathlib import Path
import urllib.error
import urllib.request

FALLBACK_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Makerhub · {name}</title>
<style>
  html, body {{ margin: 0; height: 100%; background: #10141c; color: #e8eef7;
    font-family: system-ui, sans-serif; cursor: none; }}
  main {{ height: 100%; display: flex; flex-direction: column; align-items: center;
    justify-content: center; gap: 2vh; }}
  .logo {{ font-size: 9vh; font-weight: 700; letter-spacing: .05em; color: #f5a623; }}
  #clock {{ font-size: 14vh; font-variant-numeric: tabular-nums; }}
  .note {{ font-size: 3vh; opacity: .7; }}
</style></head>
<body data-makerhub-idle="fallback"><main>
  <div class="logo">MAKERHUB</div>
  <div id="clock"></div>
  <div class="note">{name} · Home Assistant is not reachable</div>
</main>
<script>
  const tick = () => {{ document.getElementById('clock').textContent =
    new Date().toLocaleTimeString([], {{hour: '2-digit', minute: '2-digit'}}); }};
  tick(); setInterval(tick, 1000);
</script></body></html>
"""


def write_fallback(state_dir: Path, name: str) -> str:
    """Write the built-in idle page into ``state_dir``; return its ``file://`` address."""
    state_dir.mkdir(parents=True, exist_ok=True)
    page = state_dir / "idle.html"
    page.write_text(FALLBACK_PAGE.format(name=html.escape(name)), encoding="utf-8")
    return page.resolve().as_uri()


def reachable(url: str, timeout: float = 3.0) -> bool:
    """Return whether ``url`` answers with a page (a status below 400: an error such as
    Home Assistant refusing an unsigned idle page shows the built-in page instead)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (http(s) only)
            return int(response.status) < 400
    except urllib.error.HTTPError:
        return False
    except (OSError, ValueError):
        return False
