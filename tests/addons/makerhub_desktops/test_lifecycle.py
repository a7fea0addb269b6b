"""Suspend when idle, resume on connect, stop later, the limits, the scratch folder."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
import shutil
import signal
import time

import aiohttp
import pytest

from makerhub_desktops import accounts
from makerhub_desktops.manager import Desktop

from .conftest import Service, ServiceFactory, make_repo
from .desktops import window_names
from .rfbclient import RfbClient, wait_for
from .test_desktop import wait_for_terminal


def processes(desktop: Desktop) -> list[int]:
    assert desktop.account is not None
    return accounts.processes_of(desktop.account.uid)


def all_stopped(desktop: Desktop) -> bool:
    return all(accounts.is_stopped(pid) for pid in processes(desktop))


async def test_suspend_when_idle_and_resume_on_connect(service: Service, repo: Path) -> None:
    settings = service.manager.settings
    await service.start("alpha", f"file://{repo}")
    desktop = service.manager.get("alpha")
    await wait_for_terminal(service, "alpha")
    windows = sorted(window_names(desktop))
    pids = processes(desktop)
    assert len(pids) >= 4  # Xvnc, openbox, tint2, xterm (and its shell)

    # Someone connected keeps it running however long they stay.
    viewer = await service.rfb("alpha", "viewer")
    await viewer.frame()
    service.clock.advance(settings.suspend_after * 3)
    await service.manager.tick()
    assert desktop.record.state == "running"
    await viewer.close()
    await wait_for(lambda: desktop.connections == 0)

    service.clock.advance(settings.suspend_after - 1)
    await service.manager.tick()
    assert desktop.record.state == "running"
    assert not any(accounts.is_stopped(pid) for pid in pids)
    service.clock.advance(1)
    await service.manager.tick()
    assert desktop.record.state == "suspended"
    assert all_stopped(desktop)
    assert sorted(processes(desktop)) == sorted(pids)  # stopped, not ended: memory kept
    status, info = await service.call("GET", "/api/desktops/alpha")
    assert (status, info["state"]) == (200, "suspended")

    began = time.monotonic()
    resumed = await service.rfb("alpha", "controller")
    await resumed.frame()
    resume_seconds = time.monotonic() - began
    assert desktop.record.state == "running"
    assert not any(accounts.is_stopped(pid) for pid in processes(desktop))
    assert sorted(window_names(desktop)) == windows
    await resumed.type_text("echo after-resume > ~/workspace/resumed.txt")
    await wait_for((desktop.paths.workspace / "resumed.txt").exists)
    assert resume_seconds < 5, resume_seconds


async def test_stop_after_the_longer_idle_time_keeps_the_workspace(
    service: Service, repo: Path
) -> None:
    settings = service.manager.settings
    await service.start("alpha", f"file://{repo}")
    desktop = service.manager.get("alpha")
    await wait_for_terminal(service, "alpha")
    controller = await service.rfb("alpha", "controller")
    await controller.frame()
    await controller.type_text("echo kept > ~/workspace/kept.txt")
    kept = desktop.paths.workspace / "kept.txt"
    await wait_for(kept.exists)
    await controller.close()
    await wait_for(lambda: desktop.connections == 0)

    service.clock.advance(settings.suspend_after)
    await service.manager.tick()
    assert desktop.record.state == "suspended"
    service.clock.advance(settings.stop_after - settings.suspend_after)
    await service.manager.tick()
    assert desktop.record.state == "stopped"
    await wait_for(lambda: not processes(desktop))
    assert kept.read_text() == "kept\n"
    status, info = await service.call("GET", "/api/desktops/alpha")
    assert (status, info["state"], info["display"]) == (200, "stopped", None)

    # Connecting starts it again, on the same workspace.
    again = await service.rfb("alpha", "viewer")
    await again.frame()
    assert desktop.record.state == "running"
    assert kept.read_text() == "kept\n"


async def test_the_limit_suspends_the_least_recently_used(
    make_service: ServiceFactory, repos_root: Path
) -> None:
    service = await make_service(max_running=2, max_desktops=3)
    urls = {name: f"file://{make_repo(repos_root, name)}" for name in ("a", "b", "c", "d")}
    await service.start("a", urls["a"])
    service.clock.advance(1)
    await service.start("b", urls["b"])
    service.clock.advance(1)
    viewer_of_a = await service.rfb("a", "viewer")  # a is now the most recently used
    await viewer_of_a.frame()
    service.clock.advance(1)
    await service.start("c", urls["c"])
    states = {d.project: d.record.state.value for d in service.manager}
    assert states == {"a": "running", "b": "suspended", "c": "running"}

    service.clock.advance(1)
    viewer_of_c = await service.rfb("c", "viewer")
    await viewer_of_c.frame()
    # Both running desktops have someone connected: no room for b or d.
    status, body = await service.call("POST", "/api/desktops/b/start", json={})
    assert (status, body["error"]) == (503, "no_capacity")
    status, body = await service.call(
        "POST", "/api/desktops/d/start", json={"repository": {"url": urls["d"]}}
    )
    assert (status, body["error"]) == (503, "no_capacity")
    assert service.manager.get("b").record.state == "suspended"
    token_for_b = await service.connect_token("b", "viewer")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await service.session.ws_connect(f"{service.base}/websockify?token={token_for_b}")
    assert refused.value.status == 503

    await viewer_of_a.close()
    await wait_for(lambda: service.manager.get("a").connections == 0)
    # The refused token still works once there is room: b resumes, a is suspended.
    viewer_of_b = await RfbClient.connect(
        service.session, f"{service.base}/websockify?token={token_for_b}"
    )
    service.clients.append(viewer_of_b)
    await viewer_of_b.frame()
    states = {d.project: d.record.state.value for d in service.manager}
    # d was cloned before its start was refused: it waits, stopped, with its workspace.
    assert states == {"a": "suspended", "b": "running", "c": "running", "d": "stopped"}
    await viewer_of_b.close()
    await wait_for(lambda: service.manager.get("b").connections == 0)
    service.clock.advance(1)
    await service.call("POST", "/api/desktops/b/suspend")
    await service.start("d")
    states = {d.project: d.record.state.value for d in service.manager}
    # d needed a started slot: a, the least recently used, is stopped.
    assert states == {"a": "stopped", "b": "suspended", "c": "running", "d": "running"}


async def test_the_scratch_folder_is_deleted_after_its_ttl(service: Service, repo: Path) -> None:
    await service.start("alpha", f"file://{repo}", scratch_ttl=600)
    desktop = service.manager.get("alpha")
    scratch = desktop.paths.scratch
    assert scratch.is_dir()
    assert desktop.account is not None
    assert scratch.stat().st_uid == desktop.account.uid
    (scratch / "draft.txt").write_text("draft")
    viewer = await service.rfb("alpha", "viewer")  # keeps it running meanwhile
    await viewer.frame()
    service.clock.advance(599)
    await service.manager.tick()
    assert (scratch / "draft.txt").exists()
    await viewer.close()
    await wait_for(lambda: desktop.connections == 0)
    service.clock.advance(1)
    await service.manager.tick()
    assert not scratch.exists()
    assert (desktop.paths.workspace / "README.md").exists()
    # The next start makes a fresh one with a new deadline.
    await service.call("POST", "/api/desktops/alpha/stop")
    await service.start("alpha")
    assert scratch.is_dir()
    assert not (scratch / "draft.txt").exists()
    assert desktop.record.scratch_expires == service.clock.now() + 600


async def test_a_desktop_whose_xvnc_died_starts_again(service: Service, repo: Path) -> None:
    await service.start("alpha", f"file://{repo}")
    desktop = service.manager.get("alpha")
    first_display_pid = desktop.record.xvnc_pid
    assert first_display_pid is not None
    os.kill(first_display_pid, signal.SIGKILL)
    await asyncio.sleep(0.2)
    viewer = await service.rfb("alpha", "viewer")
    await viewer.frame()
    assert desktop.record.state == "running"
    assert desktop.record.xvnc_pid not in {None, first_display_pid}


async def test_the_services_own_ticker_applies_the_idle_rules(
    make_service: ServiceFactory, repo: Path
) -> None:
    service = await make_service(tick_interval=0.02)
    await service.start("alpha", f"file://{repo}")
    desktop = service.manager.get("alpha")
    await asyncio.sleep(0.2)
    assert desktop.record.state == "running"  # the clock has not moved
    service.clock.advance(service.manager.settings.suspend_after)
    await wait_for(lambda: desktop.record.state == "suspended")
    service.clock.advance(service.manager.settings.stop_after)
    await wait_for(lambda: desktop.record.state == "stopped")


async def test_a_long_log_is_moved_aside_at_the_next_start(service: Service, repo: Path) -> None:
    log = service.manager.logs / "alpha.log"
    log.write_bytes(b"x" * (1024 * 1024 + 1))
    await service.start("alpha", f"file://{repo}")
    assert log.with_suffix(".log.1").stat().st_size == 1024 * 1024 + 1
    assert log.stat().st_size < 1024 * 1024


async def test_a_deleted_workspace_is_cloned_again_an_existing_one_is_kept(
    service: Service, repo: Path, repos_root: Path
) -> None:
    await service.start("alpha", f"file://{repo}")
    desktop = service.manager.get("alpha")
    workspace = desktop.paths.workspace
    (workspace / "README.md").write_text("changed locally\n")
    other = make_repo(repos_root, "other", {"OTHER.md": "other\n"})
    # A start naming a repository never overwrites the workspace there is.
    await service.start("alpha", f"file://{other}")
    assert (workspace / "README.md").read_text() == "changed locally\n"
    assert not (workspace / "OTHER.md").exists()
    await service.call("POST", "/api/desktops/alpha/stop")
    shutil.rmtree(workspace)
    answer = await service.start("alpha", f"file://{other}")
    assert (workspace / "OTHER.md").read_text() == "other\n"
    assert answer["repository"] == f"file://{other}"
    assert desktop.account is not None
    assert (workspace / "OTHER.md").stat().st_uid == desktop.account.uid
