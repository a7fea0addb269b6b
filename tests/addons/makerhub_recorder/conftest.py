"""Fixtures: a real RTSP camera (GStreamer), the recorder service in-process, ffprobe.

The service runs in the test's event loop with real ffmpeg processes and short timings
(2 s segments, a stall noticed after 2 s); waits poll with generous deadlines, they never
assert on the time something took.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from makerhub_recorder.api import create_app
from makerhub_recorder.service import DiskUsageFunction, RecorderService, system_disk_usage
from makerhub_recorder.settings import Settings
import pytest
from yarl import URL

from dev.processes.rtsp_camera import RtspCamera

TOKEN = "test-token-0123456789abcdef"
FAST: dict[str, Any] = {
    "segment_seconds": 2.0,
    "pre_roll": 4.0,
    "stall_timeout": 2.0,
    "connect_timeout": 5.0,
    "reconnect_min": 0.5,
    "reconnect_max": 2.0,
    "lost_after": 30.0,
    "free_floor_bytes": 0,
    "timelapse_interval": 1.0,
    "timelapse_chunk_frames": 3,
    "timelapse_width": 320,
    "timelapse_height": 180,
    "housekeeping_interval": 0.5,
}


async def wait_until(
    check: Callable[[], Awaitable[Any]], timeout: float = 60.0, what: str = "condition"
) -> Any:
    """Poll ``check`` until it returns something true; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting for {what} (last: {result!r})")
        await asyncio.sleep(0.25)


@pytest.fixture
def camera() -> Iterator[RtspCamera]:
    """A real RTSP camera (GStreamer), 640x360 at 15 fps, a keyframe a second."""
    with RtspCamera() as rtsp:
        yield rtsp


@dataclass
class Service:
    """A running service and an HTTP client."""

    base: str
    service: RecorderService
    session: aiohttp.ClientSession
    runner: web.AppRunner

    async def call(
        self, method: str, path: str, *, token: str | None = TOKEN, **kwargs: Any
    ) -> tuple[int, Any]:
        """Send a request; return the status and the JSON (or bytes) answer."""
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        url = URL(self.base + path, encoded=True)  # sent as written: no '..' resolved
        async with self.session.request(method, url, headers=headers, **kwargs) as response:
            if response.content_type == "application/json":
                return response.status, await response.json()
            return response.status, await response.read()

    async def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request that must succeed; return the answer."""
        status, answer = await self.call(method, path, **kwargs)
        assert status in {200, 201, 204}, (status, answer)
        return answer

    async def add_camera(self, source: str, **body: Any) -> str:
        """Add a camera; return its id."""
        answer = await self.ok("POST", "/api/cameras", json={"source": source, **body})
        return str(answer["id"])

    async def camera(self, camera_id: str) -> dict[str, Any]:
        """A camera's answer."""
        answer: dict[str, Any] = await self.ok("GET", f"/api/cameras/{camera_id}")
        return answer

    async def wait_status(self, camera_id: str, *statuses: str, timeout: float = 60) -> None:
        """Wait until the camera has one of ``statuses``."""

        async def check() -> bool:
            return (await self.camera(camera_id))["status"] in statuses

        await wait_until(check, timeout, f"{camera_id} to be {'/'.join(statuses)}")

    def segment_file(self, camera_id: str, name: str) -> Path:
        """A segment's file on disk."""
        return self.service.settings.media_dir / camera_id / "segments" / name


type ServiceFactory = Callable[..., Awaitable[Service]]


@pytest.fixture
async def make_service(socket_enabled: None, tmp_path: Path) -> AsyncIterator[ServiceFactory]:
    """Start services with chosen settings; everything is stopped at the end."""
    services: list[Service] = []
    session = aiohttp.ClientSession()

    async def factory(
        name: str = "data",
        disk_usage: DiskUsageFunction = system_disk_usage,
        housekeeping: bool = True,
        **overrides: Any,
    ) -> Service:
        settings = Settings(data_dir=tmp_path / name, token=TOKEN, **{**FAST, **overrides})
        settings.data_dir.mkdir(exist_ok=True)
        service = RecorderService(settings, disk_usage=disk_usage)
        runner = web.AppRunner(create_app(service, housekeeping=housekeeping), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        running = Service(f"http://{host}:{port}", service, session, runner)
        services.append(running)
        return running

    yield factory
    for running in services:
        await running.runner.cleanup()
    await session.close()


@pytest.fixture
async def service(make_service: ServiceFactory) -> Service:
    """A service with the fast test settings."""
    return await make_service()
