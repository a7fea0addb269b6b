"""The recorder client against the real recorder service, run as a process, and against a
server answering what no recorder service would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import aiohttp
from aiohttp import web
import pytest

from custom_components.makerhub.core.recorder_client import (
    RecorderAuthError,
    RecorderClient,
    RecorderConnectionError,
    RecorderRefusedError,
    RecorderServiceError,
    RecorderUnknownCameraError,
    segment_path,
    timelapse_path,
)
from dev.processes.ports import free_port
from dev.processes.recorder_process import RecorderServiceProcess
from tests.helpers.recorder_service import TOKEN, recorder_service


@pytest.fixture
def service(socket_enabled: None) -> Iterator[RecorderServiceProcess]:
    """The service of the test."""
    with recorder_service() as running:
        yield running


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP session of the test."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


async def test_the_services_refusals_are_typed(
    service: RecorderServiceProcess, session: aiohttp.ClientSession
) -> None:
    client = RecorderClient(session, service.url, TOKEN)
    assert (await client.health())["status"] == "ok"
    assert await client.list_cameras() == []
    assert (await client.storage()).free_bytes > 0
    with pytest.raises(RecorderAuthError) as refused:
        await RecorderClient(session, service.url, "wrong-token").list_cameras()
    assert (refused.value.status, refused.value.code) == (401, "unauthorized")
    assert "wrong-token" not in repr(RecorderClient(session, service.url, "wrong-token"))
    with pytest.raises(RecorderUnknownCameraError) as unknown:
        await client.start_recording("cam-000000000000")
    assert (unknown.value.status, unknown.value.code) == (404, "unknown_camera")


async def test_hostile_ids_names_and_days_are_refused_before_any_request(
    session: aiohttp.ClientSession,
) -> None:
    client = RecorderClient(session, f"http://127.0.0.1:{free_port()}", TOKEN)
    for call in (
        client.start_recording("../etc"),
        client.set_activity("bench", True, "../x"),
        client.recordings(day="yesterday"),
        client.timelapses(camera="Bench"),
    ):
        with pytest.raises(RecorderRefusedError) as refused:
            await call
        assert refused.value.status == 422
    for build in (
        lambda: segment_path("bench", "../state.json"),
        lambda: timelapse_path("bench", "2026-1-1", None),
        lambda: timelapse_path("bench", "2026-01-01", "a/b"),
    ):
        with pytest.raises(RecorderRefusedError):
            build()
    assert timelapse_path("bench", "2026-01-01", None) == "/api/timelapses/bench/2026-01-01/_none"
    with pytest.raises(RecorderConnectionError, match="cannot be reached"):
        await client.list_cameras()
    with pytest.raises(RecorderConnectionError, match="cannot be reached"):
        await client.open_file(segment_path("bench", "a.mp4"))


@pytest.fixture
async def garbled(socket_enabled: None) -> AsyncIterator[str]:
    """A server that answers the recorder API with what no recorder service would."""

    async def answer(request: web.Request) -> web.StreamResponse:
        path = request.path
        if path == "/api/cameras":
            return web.json_response({"cameras": []})
        if path == "/api/storage":
            return web.json_response(["not", "an", "object"])
        if path.endswith("/odd/recording/start"):
            return web.json_response({"camera": {"id": "odd", "status": "dreaming"}})
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
    client = RecorderClient(session, garbled, TOKEN, timeout=0.5)
    with pytest.raises(RecorderServiceError, match="not a list"):
        await client.list_cameras()
    with pytest.raises(RecorderServiceError, match="not an object"):
        await client.storage()
    with pytest.raises(RecorderServiceError, match="unknown camera status 'dreaming'"):
        await client.start_recording("odd")
    with pytest.raises(RecorderServiceError, match="with no JSON"):
        await client.stop_recording("plain")
    with pytest.raises(RecorderConnectionError, match="did not answer"):
        await client.stop_recording("slow")
