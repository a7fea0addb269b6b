"""A desktop end to end over the raw RFB protocol: controller types, viewer cannot."""

from __future__ import annotations

import asyncio
from pathlib import Path
import struct
from urllib.parse import parse_qs

import aiohttp
import pytest

from .conftest import Service
from .desktops import active_window_name, window_names
from .rfbclient import RfbClient, wait_for


async def wait_for_terminal(service: Service, project: str) -> None:
    desktop = service.manager.get(project)

    def terminal_focused() -> bool:
        return active_window_name(desktop) == "workspace" and "tint2" in window_names(desktop)

    await wait_for(terminal_focused)


async def test_controller_types_a_command_into_the_terminal(service: Service, repo: Path) -> None:
    answer = await service.start("alpha", f"file://{repo}")
    assert answer["state"] == "running"
    desktop = service.manager.get("alpha")
    assert (desktop.paths.workspace / "README.md").read_text() == "# project\n"
    await wait_for_terminal(service, "alpha")

    controller = await service.rfb("alpha", "controller")
    assert (controller.width, controller.height) == (1280, 800)
    await controller.frame()
    await controller.click(200, 200)
    await controller.type_text("echo typed-by-controller > ~/workspace/typed.txt")
    typed = desktop.paths.workspace / "typed.txt"
    await wait_for(typed.exists)
    await wait_for(lambda: typed.read_text() == "typed-by-controller\n")
    assert typed.stat().st_uid == desktop.account.uid if desktop.account else False
    status, info = await service.call("GET", "/api/desktops/alpha")
    assert (status, info["controllers"], info["viewers"]) == (200, 1, 0)


async def test_a_viewer_sees_frames_but_its_input_changes_nothing(
    service: Service, repo: Path
) -> None:
    await service.start("alpha", f"file://{repo}")
    desktop = service.manager.get("alpha")
    await wait_for_terminal(service, "alpha")
    windows = sorted(window_names(desktop))
    viewer = await service.rfb("alpha", "viewer")
    second_viewer = await service.rfb("alpha", "viewer")
    first = await viewer.frame()
    assert any(first), "the viewer sees the desktop, not a blank screen"
    await second_viewer.frame()

    # Everything a viewer could do over the raw protocol: click the terminal, type a
    # command, paste, and hide a KeyEvent inside a clipboard message's text.
    await viewer.click(200, 200)
    await viewer.pointer(640, 790, 1)  # the panel
    await viewer.pointer(640, 790, 0)
    await viewer.type_text("echo by-viewer > ~/workspace/viewer.txt")
    hidden_key = struct.pack(">BBxxI", 4, 1, ord("x")) + struct.pack(">BBxxI", 4, 0, ord("x"))
    await viewer.cut_text(hidden_key * 4)
    await viewer.send(struct.pack(">BBHII", 255, 0, 1, 0x78, 45))  # QEMU key event
    await viewer.send(struct.pack(">BxHHBx", 251, 800, 600, 0))  # SetDesktopSize
    await viewer.frame()  # the viewer is still connected and served
    await asyncio.sleep(1.5)
    assert not (desktop.paths.workspace / "viewer.txt").exists()
    assert sorted(window_names(desktop)) == windows
    assert (viewer.width, viewer.height) == (1280, 800)
    status, info = await service.call("GET", "/api/desktops/alpha")
    assert (status, info["viewers"], info["controllers"]) == (200, 2, 0)
    # 40 keys pressed and released, 4 pointer events, the cut text, the QEMU key, the resize
    assert info["dropped_input"] == 80 + 4 + 1 + 1 + 1

    # The same keystrokes from a controller do reach the terminal.
    controller = await service.rfb("alpha", "controller")
    await controller.frame()
    await controller.type_text("echo by-controller > ~/workspace/controller.txt")
    await wait_for((desktop.paths.workspace / "controller.txt").exists)
    assert not (desktop.paths.workspace / "viewer.txt").exists()
    changed = await viewer.frame()
    assert changed != first, "the viewer sees what the controller typed"


async def test_one_controller_at_a_time(service: Service, repo: Path) -> None:
    await service.start("alpha", f"file://{repo}")
    controller = await service.rfb("alpha", "controller")
    await controller.frame()
    token = await service.connect_token("alpha", "controller")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await service.session.ws_connect(f"{service.base}/websockify?token={token}")
    assert refused.value.status == 409
    await controller.close()
    await wait_for(lambda: service.manager.get("alpha").controllers == 0)
    # The refused token was not used up: it works once the first controller left.
    second = await RfbClient.connect(service.session, f"{service.base}/websockify?token={token}")
    service.clients.append(second)
    await second.frame()
    status, info = await service.call("GET", "/api/desktops/alpha")
    assert (status, info["controllers"]) == (200, 1)


async def test_connect_tokens_are_single_use_and_short_lived(service: Service, repo: Path) -> None:
    await service.start("alpha", f"file://{repo}")
    token = await service.connect_token("alpha", "viewer")
    client = await RfbClient.connect(service.session, f"{service.base}/websockify?token={token}")
    service.clients.append(client)
    for bad in (token, "forged-token", ""):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await service.session.ws_connect(f"{service.base}/websockify?token={bad}")
        assert refused.value.status == 403
    expiring = await service.connect_token("alpha", "viewer")
    service.clock.advance(service.manager.settings.token_ttl + 1)
    with pytest.raises(aiohttp.WSServerHandshakeError) as expired:
        await service.session.ws_connect(f"{service.base}/websockify?token={expiring}")
    assert expired.value.status == 403
    status, body = await service.call("GET", f"/desktop?token={expiring}", token=None)
    assert (status, body["error"]) == (403, "bad_token")
    # Two connections racing with one token: exactly one gets through.
    raced = await service.connect_token("alpha", "viewer")
    url = f"{service.base}/websockify?token={raced}"
    results = await asyncio.gather(
        service.session.ws_connect(url), service.session.ws_connect(url), return_exceptions=True
    )
    opened = [r for r in results if isinstance(r, aiohttp.ClientWebSocketResponse)]
    assert len(opened) == 1, results
    assert [r.status for r in results if isinstance(r, aiohttp.WSServerHandshakeError)] == [403]
    await opened[0].close()


async def test_the_desktop_page_sends_the_browser_to_novnc(service: Service, repo: Path) -> None:
    await service.start("alpha", f"file://{repo}")
    token = await service.connect_token("alpha", "viewer")
    async with service.session.get(
        f"{service.base}/desktop?token={token}",
        headers={"X-Ingress-Path": "/api/hassio_ingress/abc"},
        allow_redirects=False,
    ) as response:
        assert response.status == 302
        location = response.headers["Location"]
    assert location.startswith("novnc/vnc.html?")
    query = parse_qs(location.split("?", 1)[1])
    assert query["path"] == [f"api/hassio_ingress/abc/websockify?token={token}"]
    assert query["view_only"] == ["1"]
    assert "kiosk" not in query  # the browser panel's page keeps noVNC's control bar
    async with service.session.get(f"{service.base}/{location}") as page:
        assert page.status == 200
        assert "noVNC" in await page.text()
    # A display asks for the kiosk page: the option is carried on to noVNC's page.
    async with service.session.get(
        f"{service.base}/desktop?token={token}&kiosk=1", allow_redirects=False
    ) as response:
        assert response.status == 302
        kiosk = parse_qs(response.headers["Location"].split("?", 1)[1])
    assert kiosk == {**query, "path": [f"websockify?token={token}"], "kiosk": ["1"]}
    status, answer = await service.call("GET", f"/desktop?token={token}&kiosk=2", token=None)
    assert (status, answer["error"]) == (400, "invalid_request")
    # Looking at the page did not use the token up.
    client = await RfbClient.connect(service.session, f"{service.base}/websockify?token={token}")
    service.clients.append(client)
    await client.frame()
