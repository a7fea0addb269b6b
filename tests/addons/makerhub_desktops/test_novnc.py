"""noVNC's page is served with its whole module graph preloaded (the first frame sooner)."""

from __future__ import annotations

from pathlib import Path
import re

from makerhub_desktops.novnc import KIOSK_STYLE, kiosk_page, module_graph, preloaded_page

from .conftest import Service

PRELOAD = re.compile(r'<link rel="modulepreload" crossorigin="anonymous" href="([^"]+)">')


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_the_graph_follows_relative_imports_only_inside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "novnc"
    write(
        root,
        {
            "app/ui.js": (
                "import * as Log from '../core/util/logging.js';\n"
                'import RFB from "../core/rfb.js";\n'
                "import '../core/missing.js';\n"
                "import x from 'https://cdn.example/x.js';\n"
                "import y from '../../outside.js';\n"
            ),
            "core/rfb.js": "export { default } from './display.js';\nimport './rfb.js';\n",
            "core/display.js": "export default class Display {}\n",
            "core/util/logging.js": "import '../rfb.js';\nexport function Info() {}\n",
            "core/unused.js": "export const unused = 1;\n",
        },
    )
    (tmp_path / "outside.js").write_text("export default 1;\n")
    assert module_graph(root) == [
        "app/ui.js",
        "core/display.js",
        "core/rfb.js",
        "core/util/logging.js",
    ]


def test_the_page_gets_a_preload_per_module_in_its_head(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "vnc.html": "<!DOCTYPE html>\n<html>\n<head>\n<title>noVNC</title>\n</head></html>\n",
            "app/ui.js": "import '../core/rfb.js';\n",
            "core/rfb.js": "",
        },
    )
    page = preloaded_page(tmp_path)
    assert page is not None
    head = page.split("</head>")[0]
    assert PRELOAD.findall(head) == ["app/ui.js", "core/rfb.js"]
    assert page.index("modulepreload") < page.index("<title>")
    assert preloaded_page(tmp_path / "nowhere") is None


async def test_the_service_serves_novncs_page_with_its_real_modules_preloaded(
    service: Service,
) -> None:
    status, page = await service.call("GET", "/novnc/vnc.html", token=None)
    assert status == 200
    modules = PRELOAD.findall(page)
    assert {"app/ui.js", "core/rfb.js", "core/websock.js", "core/display.js"} <= set(modules)
    assert len(modules) > 30
    assert 'src="app/ui.js"' in page  # noVNC's own page otherwise
    for module in modules:
        status, _ = await service.call("GET", f"/novnc/{module}", token=None)
        assert status == 200, module


def test_the_kiosk_page_hides_the_control_bar_and_passing_banners_in_its_head() -> None:
    page = "<!DOCTYPE html>\n<html>\n<head>\n<title>noVNC</title>\n</head><body></body></html>\n"
    kiosk = kiosk_page(page)
    head = kiosk.split("</head>")[0]
    assert KIOSK_STYLE in head
    assert kiosk.replace(KIOSK_STYLE, "") == page  # otherwise the same page
    for hidden in ("#noVNC_control_bar_anchor", "noVNC_status_normal", "noVNC_status_warn"):
        assert hidden in KIOSK_STYLE
    assert "noVNC_status_error" not in KIOSK_STYLE  # an error still says why it is blank
    assert kiosk_page("<p>no head</p>") == KIOSK_STYLE + "<p>no head</p>"


async def test_the_service_serves_the_kiosk_page_for_kiosk_1_only(service: Service) -> None:
    status, plain = await service.call("GET", "/novnc/vnc.html?kiosk=0", token=None)
    assert status == 200
    assert 'id="makerhub-kiosk"' not in plain
    status, kiosk = await service.call("GET", "/novnc/vnc.html?autoconnect=1&kiosk=1", token=None)
    assert status == 200
    assert kiosk == kiosk_page(plain)
    assert PRELOAD.findall(kiosk) == PRELOAD.findall(plain)
    status, answer = await service.call("GET", "/novnc/vnc.html?kiosk=yes", token=None)
    assert (status, answer["error"]) == (400, "invalid_request")
    assert answer["message"] == "kiosk: 0 or 1"
