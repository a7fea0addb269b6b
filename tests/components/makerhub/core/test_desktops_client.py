"""The desktops client against the real desktops service, run as a process.

The service is the add-on's program (``python -m makerhub_desktops``) with real operating
system users, Xvnc and git; its users and folders are removed after each test.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import aiohttp
from aiohttp import web
import pytest

from custom_components.makerhub.core.desktops_client import (
    DesktopsAuthError,
    DesktopsClient,
    DesktopsCloneError,
    DesktopsConnectionError,
    DesktopsError,
    DesktopsRefusedError,
    DesktopsServiceError,
    DesktopState,
    DesktopsUnknownProjectError,
    Role,
)
from dev.processes.desktops_process import DesktopsServiceProcess
from dev.processes.ports import free_port
from tests.helpers.desktops_service import TOKEN, bare_repo, desktops_service


@pytest.fixture
def service(socket_enabled: None) -> Iterator[DesktopsServiceProcess]:
    """The service of the test."""
    with desktops_service() as running:
        yield running


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP session of the test."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


async def test_health_checks_url_and_token(
    service: DesktopsServiceProcess, session: aiohttp.ClientSession
) -> None:
    health = await DesktopsClient(session, service.url, TOKEN).health()
    assert health.status == "ok"
    with pytest.raises(DesktopsAuthError) as refused:
        await DesktopsClient(session, service.url, "wrong-token").health()
    assert (refused.value.status, refused.value.code) == (401, "unauthorized")
    assert "wrong-token" not in repr(DesktopsClient(session, service.url, "wrong-token"))


async def test_an_unreachable_service_is_a_connection_error(
    session: aiohttp.ClientSession,
) -> None:
    client = DesktopsClient(session, f"http://127.0.0.1:{free_port()}", TOKEN)
    with pytest.raises(DesktopsConnectionError) as failed:
        await client.health()
    assert failed.value.code == "unreachable"
    assert failed.value.status is None


async def test_start_connect_stop_a_desktop(
    service: DesktopsServiceProcess, session: aiohttp.ClientSession
) -> None:
    client = DesktopsClient(session, service.url + "/", TOKEN)
    with pytest.raises(DesktopsUnknownProjectError) as unknown:
        await client.status("alpha")
    assert unknown.value.status == 404

    started = await client.start("alpha", repository=bare_repo(service, "alpha"))
    assert (started.project, started.state) == ("alpha", DesktopState.RUNNING)
    assert started.display is not None
    status = await client.status("alpha")
    assert (status.state, status.viewers, status.controllers) == (DesktopState.RUNNING, 0, 0)
    assert "alpha" in [desktop.project for desktop in await client.list_desktops()]

    controller = await client.connect("alpha", Role.CONTROLLER, ttl=60)
    viewer = await client.connect("alpha", Role.VIEWER)
    assert (controller.role, viewer.role) == (Role.CONTROLLER, Role.VIEWER)
    assert controller.token != viewer.token
    assert controller.url.startswith(f"{service.url}/desktop?")
    assert parse_qs(urlsplit(controller.url).query)["token"] == [controller.token]
    assert controller.path == controller.url.removeprefix(service.url + "/")
    # The page redirects to noVNC without using the token up.
    async with session.get(controller.url, allow_redirects=False) as page:
        assert page.status == 302
        assert "novnc/vnc.html" in page.headers["Location"]

    stopped = await client.stop("alpha")
    assert stopped.state == DesktopState.STOPPED
    again = await client.start("alpha")  # the workspace is kept: no repository needed
    assert again.state == DesktopState.RUNNING
    await client.stop("alpha")


async def test_the_services_refusals_are_typed(
    service: DesktopsServiceProcess, session: aiohttp.ClientSession
) -> None:
    client = DesktopsClient(session, service.url, TOKEN)
    missing = f"file://{service.file_root}/missing.git"
    with pytest.raises(DesktopsCloneError) as clone:
        await client.start("beta", repository=missing)
    assert (clone.value.status, clone.value.code) == (502, "clone_failed")
    assert clone.value.message

    with pytest.raises(DesktopsRefusedError) as outside:
        await client.start("gamma", repository="file:///etc")
    assert (outside.value.status, outside.value.code) == (422, "refused")
    with pytest.raises(DesktopsRefusedError) as ext:
        await client.start("gamma", repository="ext::sh -c touch% /tmp/pwned")
    assert ext.value.status == 422


async def test_a_first_start_without_a_repository(
    service: DesktopsServiceProcess, session: aiohttp.ClientSession
) -> None:
    client = DesktopsClient(session, service.url, TOKEN)
    # Connecting to a project the service has never seen stays a precise refusal.
    with pytest.raises(DesktopsUnknownProjectError) as unknown:
        await client.connect("delta", Role.VIEWER)
    assert (unknown.value.status, unknown.value.code) == (404, "unknown_project")
    started = await client.start("delta")  # an empty workspace (git init)
    assert (started.state, started.repository) == (DesktopState.RUNNING, "")
    assert (await client.connect("delta", Role.VIEWER)).role is Role.VIEWER
    cloned = await client.start("delta", repository=bare_repo(service, "delta"))
    assert cloned.repository.endswith("/delta.git")
    await client.stop("delta")


@pytest.mark.parametrize("project", ["../etc", "a;rm -rf", "UPPER", "", "x" * 30])
async def test_a_bad_project_id_is_refused_before_any_request(
    session: aiohttp.ClientSession, project: str
) -> None:
    client = DesktopsClient(session, f"http://127.0.0.1:{free_port()}", TOKEN)
    with pytest.raises(DesktopsRefusedError):
        await client.status(project)
    with pytest.raises(DesktopsError):
        await client.connect(project, Role.VIEWER)


@pytest.fixture
async def garbled(socket_enabled: None) -> AsyncIterator[str]:
    """A server that answers the desktops API with what no desktops service would: the
    list as an object, an unknown state, a connect answer without a token, a desktop as a
    list, a body that is not JSON, and an answer slower than the client waits."""

    async def answer(request: web.Request) -> web.StreamResponse:
        path = request.path
        if path == "/api/desktops":
            return web.json_response({"desktops": []})
        if path.endswith("/odd"):
            return web.json_response({"project": "odd", "state": "dreaming"})
        if path.endswith("/odd/connect"):
            return web.json_response({"url": "/desktop?token=", "expires": 1})
        if path.endswith("/listed"):
            return web.json_response(["not", "an", "object"])
        if "/slow" in path:
            await asyncio.sleep(2)
        return web.Response(text="<html>proxy error</html>", content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_answers_no_service_gives_are_refused_by_name(
    garbled: str, session: aiohttp.ClientSession
) -> None:
    """An answer of the wrong shape is a service error saying what was wrong; a slow one
    a connection error; nothing of it is taken for a desktop."""
    client = DesktopsClient(session, garbled, TOKEN, timeout=0.5, start_timeout=0.5)
    with pytest.raises(DesktopsServiceError, match="the desktop list is not a list"):
        await client.list_desktops()
    with pytest.raises(DesktopsServiceError, match="unknown desktop state 'dreaming'"):
        await client.status("odd")
    with pytest.raises(DesktopsServiceError, match="no token or URL"):
        await client.connect("odd", Role.VIEWER)
    with pytest.raises(DesktopsServiceError, match="answer is not an object"):
        await client.status("listed")
    with pytest.raises(DesktopsServiceError, match="with no JSON"):
        await client.status("plain")
    with pytest.raises(DesktopsConnectionError):
        await client.status("slow")
    with pytest.raises(DesktopsConnectionError):
        await client.start(
            "slow",
            repository="https://example.invalid/x.git",
            credential="c",
            username="u",
            scratch_ttl=60,
        )
