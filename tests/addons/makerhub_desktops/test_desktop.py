"""A desktop end to end over the raw RFB protocol: controller types, viewer cannot."""

from __future__ import annotations

from pathlib import Path

from .conftest import Service
from .desktops import active_window_name
from .rfbclient import wait_for


async def wait_for_terminal(service: Service, project: str) -> None:
    desktop = service.manager.get(project)

    def terminal_focused() -> bool:
        return active_window_name(desktop) == "workspace"

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
