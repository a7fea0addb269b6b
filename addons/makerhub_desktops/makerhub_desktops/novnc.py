"""noVNC's page with every module it imports preloaded.

noVNC (Debian's 1.3) is about 45 unbundled JavaScript modules: a browser finds each
module's imports only after loading it, so the page reaches its WebSocket after a
waterfall of round trips several levels deep. Listing the whole import graph as
``<link rel="modulepreload">`` in the page lets the browser fetch and compile them all
at once. The page is otherwise noVNC's own ``vnc.html``.

A display shows a desktop like a kiosk: :func:`kiosk_page` is the same page with noVNC's
control bar (its side tab) and its passing status banners ("Connected (unencrypted)")
hidden; an error banner stays, so a blank screen still says why.
"""

from __future__ import annotations

from pathlib import Path
import posixpath
import re
from typing import Final

ENTRY: Final = "app/ui.js"
KIOSK_STYLE: Final = (
    '    <style id="makerhub-kiosk">\n'
    "      #noVNC_control_bar_anchor,\n"
    "      #noVNC_status.noVNC_status_normal,\n"
    "      #noVNC_status.noVNC_status_warn { display: none !important; }\n"
    "    </style>\n"
)
IMPORT_RE: Final = re.compile(
    r"""^\s*(?:import|export)\b[^'";]*?(?:\bfrom\s*)?['"]([^'"]+\.js)['"]""", re.MULTILINE
)


def module_graph(root: Path, entry: str = ENTRY) -> list[str]:
    """Return ``entry`` and every module it imports, directly or not (paths under ``root``).

    Only relative imports inside ``root`` are followed; a missing module is skipped (the
    browser reports it as it would without the preloads).
    """
    found: list[str] = []
    todo = [entry]
    base = root.resolve()
    while todo:
        module = todo.pop()
        path = (root / module).resolve()
        if module in found or not path.is_relative_to(base) or not path.is_file():
            continue
        found.append(module)
        folder = posixpath.dirname(module)
        todo.extend(
            posixpath.normpath(posixpath.join(folder, target))
            for target in IMPORT_RE.findall(path.read_text(errors="replace"))
            if target.startswith(".")
        )
    return sorted(found)


def preloaded_page(root: Path, page: str = "vnc.html") -> str | None:
    """Return noVNC's ``page`` with its modules preloaded; None without noVNC."""
    path = root / page
    if not path.is_file():
        return None
    html = path.read_text()
    links = "".join(
        f'    <link rel="modulepreload" crossorigin="anonymous" href="{module}">\n'
        for module in module_graph(root)
    )
    head = html.find("<head>")
    if head < 0:
        return html
    at = head + len("<head>\n")
    return html[:at] + links + html[at:]


def kiosk_page(page: str) -> str:
    """Return noVNC's ``page`` with its control bar and passing status banners hidden."""
    end = page.find("</head>")
    if end < 0:
        return KIOSK_STYLE + page
    return page[:end] + KIOSK_STYLE + page[end:]
