"""Downloading an update and fetching unit files over HTTP, from a local aiohttp server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

from aiohttp import web
import pytest

from makerhub_unit.updater import UpdateError, download, fetch

from .httpserver import HttpServer

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture
def server() -> Iterator[HttpServer]:
    server = HttpServer()
    yield server
    server.close()


async def test_download(server: HttpServer, tmp_path: Path) -> None:
    data = bytes(range(256)) * 1000
    url = server.file("/fw.tar.gz", data)
    dest = tmp_path / "fw"
    assert await download(url, dest, len(data)) == len(data)
    assert dest.read_bytes() == data


async def test_http_error(server: HttpServer, tmp_path: Path) -> None:
    with pytest.raises(UpdateError, match="download: HTTP 404 Not Found"):
        await download(server.url("/missing"), tmp_path / "fw", 100)
    assert not (tmp_path / "fw").exists()


async def test_more_than_announced(server: HttpServer, tmp_path: Path) -> None:
    url = server.file("/big", b"x" * 5000)
    with pytest.raises(
        UpdateError, match="size mismatch: the server sends 5000 bytes, expected at most 4000"
    ):
        await download(url, tmp_path / "fw", 4000)

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(10):
            await response.write(b"y" * 1000)
        await response.write_eof()
        return response

    server.routes["/chunked"] = chunked
    with pytest.raises(UpdateError, match="size mismatch: more than the expected 4000 bytes"):
        await download(server.url("/chunked"), tmp_path / "fw", 4000)
    assert not (tmp_path / "fw").exists()


async def test_redirects_only_to_the_same_host(server: HttpServer, tmp_path: Path) -> None:
    server.file("/real", b"firmware")

    async def same(request: web.Request) -> web.Response:
        raise web.HTTPFound("/real")

    async def other(request: web.Request) -> web.Response:
        raise web.HTTPFound(server.url("/real", host="localhost"))

    server.routes["/same"] = same
    server.routes["/other"] = other
    assert await download(server.url("/same"), tmp_path / "a", 100) == 8
    with pytest.raises(
        UpdateError,
        match=r"redirect from http://127\.0\.0\.1:\d+ to another host \(http://localhost:\d+\)",
    ):
        await download(server.url("/other"), tmp_path / "b", 100)
    assert not (tmp_path / "b").exists()


async def test_timeouts(server: HttpServer, tmp_path: Path) -> None:
    async def silent(request: web.Request) -> web.Response:
        await asyncio.sleep(1)
        return web.Response(body=b"late")

    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(30):
            await response.write(b"z" * 10)
            await asyncio.sleep(0.1)
        await response.write_eof()
        return response

    server.routes["/silent"] = silent
    server.routes["/trickle"] = trickle
    with pytest.raises(UpdateError, match=r"download: timed out"):
        await download(server.url("/silent"), tmp_path / "a", 100, connect_timeout=0.3)
    with pytest.raises(UpdateError, match=r"download: timed out after 0\.5 s"):
        await download(server.url("/trickle"), tmp_path / "b", 1000, timeout=0.5)


async def test_not_http(tmp_path: Path) -> None:
    with pytest.raises(UpdateError, match="only http"):
        await download("file:///etc/passwd", tmp_path / "a", 100)


async def test_fetch_sends_the_bearer_token(server: HttpServer) -> None:
    url = server.json("/units/abc/env.json", {"MH_UNIT_ID": "abc"}, token="s3cret")
    assert await fetch(url, token="s3cret") == b'{"MH_UNIT_ID": "abc"}'
    assert server.requests[-1][1]["Authorization"] == "Bearer s3cret"
    with pytest.raises(UpdateError, match=r"GET http://.*/units/abc/env\.json: HTTP 401"):
        await fetch(url, token="wrong")
