"""Fixtures: the firmware service on a real port, real git repositories, fake servers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from makerhub_firmware.api import create_app
from makerhub_firmware.service import FirmwareService
from makerhub_firmware.settings import Settings

from .gitrepos import WorkRepo, valid_repo

TOKEN = "test-token-0123456789abcdef"
ALL_SCHEMES = frozenset({"https", "ssh", "http", "git", "file"})


@dataclass
class Api:
    """A running service and an HTTP client for it."""

    base: str
    service: FirmwareService
    session: aiohttp.ClientSession
    token: str = TOKEN
    runners: list[web.AppRunner] = field(default_factory=list)

    async def call(
        self, method: str, path: str, *, token: str | None = TOKEN, **kwargs: Any
    ) -> tuple[int, Any]:
        """Send a request; return the status and the JSON (or raw bytes) answer."""
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        async with self.session.request(
            method, self.base + path, headers=headers, **kwargs
        ) as response:
            raw = await response.read()
            if response.content_type == "application/json":
                return response.status, await response.json()
            return response.status, raw

    async def add_repo(self, url: str, **fields: Any) -> dict[str, Any]:
        """Register a repository; fail the test if that does not work."""
        status, body = await self.call(
            "POST", "/api/repos", json={"name": fields.pop("name", "Thermo"), "url": url, **fields}
        )
        assert status == 201, body
        return body


async def start_app(app: web.Application) -> tuple[web.AppRunner, str]:
    """Serve ``app`` on a free port of 127.0.0.1; return the runner and base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


type ApiFactory = Callable[..., Awaitable[Api]]


@pytest.fixture
async def make_api(socket_enabled: None, tmp_path: Path) -> AsyncIterator[ApiFactory]:
    """Start services with chosen settings (all stopped at the end of the test)."""
    apis: list[Api] = []
    session = aiohttp.ClientSession()

    async def factory(name: str = "data", **overrides: Any) -> Api:
        settings = Settings(
            data_dir=tmp_path / name,
            token=TOKEN,
            allowed_schemes=overrides.pop("allowed_schemes", ALL_SCHEMES),
            **overrides,
        )
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        service = FirmwareService(settings)
        runner, base = await start_app(create_app(service))
        api = Api(base, service, session, runners=[runner])
        apis.append(api)
        return api

    yield factory
    for api in apis:
        for runner in api.runners:
            await runner.cleanup()
    await session.close()


@pytest.fixture
async def api(make_api: ApiFactory) -> Api:
    """A service allowing every scheme the tests' fakes use."""
    return await make_api()


@pytest.fixture
def repo(tmp_path: Path) -> WorkRepo:
    """A valid firmware repository on one commit."""
    return valid_repo(tmp_path / "upstream")
