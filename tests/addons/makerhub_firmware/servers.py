"""Local fakes of internet services: git over HTTP with basic auth, git daemon, the
GitHub/Gitea releases API, and the Supervisor's discovery endpoint."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, field
import os
from pathlib import Path
import subprocess
import time
from typing import Any

from aiohttp import web

from dev.processes.ports import free_port


def git_http_app(project_root: Path, credentials: tuple[str, str] | None) -> web.Application:
    """Serve the bare repositories under ``project_root`` with ``git http-backend``.

    With ``credentials``, every request needs HTTP basic auth with that user and password;
    the app records what it received in ``app["auth_seen"]``.
    """
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app["auth_seen"] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        header = request.headers.get("Authorization")
        app["auth_seen"].append(header)
        user = None
        if credentials is not None:
            expected = "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
            if header != expected:
                return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="git"'})
            user = credentials[0]
        body = await request.read()
        env = {
            "PATH": os.environ["PATH"],
            "GIT_PROJECT_ROOT": str(project_root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "REQUEST_METHOD": request.method,
            "PATH_INFO": request.path,
            "QUERY_STRING": request.query_string,
            "CONTENT_TYPE": request.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "127.0.0.1",
            "GIT_PROTOCOL": request.headers.get("Git-Protocol", ""),
        }
        if user:
            env["REMOTE_USER"] = user
        if encoding := request.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = encoding
        process = await asyncio.create_subprocess_exec(
            "git", "http-backend", stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        out, _ = await process.communicate(body)
        head, _, payload = out.partition(b"\r\n\r\n")
        status = 200
        headers: dict[str, str] = {}
        for line in head.decode().split("\r\n"):
            name, _, value = line.partition(": ")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers[name] = value
        return web.Response(status=status, body=payload, headers=headers)

    app.router.add_route("*", "/{tail:.*}", handler)
    return app


@dataclass
class GitDaemon:
    """``git daemon`` serving every repository under ``base`` on 127.0.0.1."""

    base: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "git",
                "daemon",
                "--reuseaddr",
                "--export-all",
                "--listen=127.0.0.1",
                f"--port={self.port}",
                f"--base-path={self.base}",
                str(self.base),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null"},
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            probe = subprocess.run(
                ["git", "ls-remote", f"git://127.0.0.1:{self.port}/missing.git"],
                capture_output=True,
                check=False,
            )
            if b"Connection refused" not in probe.stderr:
                return
            time.sleep(0.05)
        raise RuntimeError("git daemon did not start")

    def url(self, name: str) -> str:
        return f"git://127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


def releases_app(
    owner: str,
    repo: str,
    releases: dict[str, dict[str, bytes]],
    *,
    gitea: bool = False,
    token: str | None = None,
) -> web.Application:
    """A fake releases API following GitHub's (or Gitea's) published shapes.

    ``releases`` maps tag → asset name → content. GitHub style: the asset's ``url`` is
    ``/repos/{owner}/{repo}/releases/assets/{id}``, which with
    ``Accept: application/octet-stream`` redirects to a storage URL. Gitea style: only
    ``browser_download_url``. ``app["requests"]`` records (path, Authorization) pairs.
    """
    app = web.Application()
    app["requests"] = []
    app["redirect"] = {"storage_base": ""}  # another server's base: a cross-origin redirect
    assets: dict[int, tuple[str, bytes]] = {}
    app["assets"] = assets
    index: dict[str, list[dict[str, Any]]] = {}
    next_id = 1000
    for tag, files in releases.items():
        index[tag] = []
        for name, content in files.items():
            next_id += 1
            assets[next_id] = (name, content)
            index[tag].append({"id": next_id, "name": name, "size": len(content)})

    def authorized(request: web.Request) -> bool:
        app["requests"].append((request.path, request.headers.get("Authorization")))
        return token is None or request.headers.get("Authorization") == f"Bearer {token}"

    async def release_by_tag(request: web.Request) -> web.Response:
        if not authorized(request):
            return web.json_response({"message": "Bad credentials"}, status=401)
        if (request.match_info["owner"], request.match_info["repo"]) != (owner, repo):
            return web.json_response({"message": "Not Found"}, status=404)
        tag = request.match_info["tag"]
        if tag not in index:
            return web.json_response({"message": "Not Found"}, status=404)
        base = f"{request.scheme}://{request.host}"
        listed = []
        for asset in index[tag]:
            item = {
                **asset,
                "browser_download_url": f"{base}/download/{tag}/{asset['name']}?id={asset['id']}",
            }
            if not gitea:
                item["url"] = f"{base}/repos/{owner}/{repo}/releases/assets/{asset['id']}"
            listed.append(item)
        return web.json_response({"tag_name": tag, "name": tag, "assets": listed})

    async def asset_api(request: web.Request) -> web.StreamResponse:
        if not authorized(request):
            return web.json_response({"message": "Bad credentials"}, status=401)
        asset_id = int(request.match_info["asset_id"])
        if request.headers.get("Accept") != "application/octet-stream":
            name, content = assets[asset_id]
            return web.json_response({"id": asset_id, "name": name, "size": len(content)})
        raise web.HTTPFound(f"{app['redirect']['storage_base']}/storage/{asset_id}")

    async def storage(request: web.Request) -> web.Response:
        app["requests"].append((request.path, request.headers.get("Authorization")))
        return web.Response(body=assets[int(request.match_info["asset_id"])][1])

    async def browser_download(request: web.Request) -> web.Response:
        if not authorized(request):
            return web.Response(status=404)
        return web.Response(body=assets[int(request.query["id"])][1])

    app.router.add_get("/repos/{owner}/{repo}/releases/tags/{tag}", release_by_tag)
    app.router.add_get("/repos/{owner}/{repo}/releases/assets/{asset_id}", asset_api)
    app.router.add_get("/storage/{asset_id}", storage)
    app.router.add_get("/download/{tag}/{name}", browser_download)
    return app


def storage_app(releases: web.Application) -> web.Application:
    """Asset storage on its own origin, like GitHub's: records what reached it."""
    app = web.Application()
    app["requests"] = []

    async def storage(request: web.Request) -> web.Response:
        app["requests"].append((request.path, request.headers.get("Authorization")))
        return web.Response(body=releases["assets"][int(request.match_info["asset_id"])][1])

    app.router.add_get("/storage/{asset_id}", storage)
    return app


def supervisor_app() -> web.Application:
    """The Supervisor's ``POST /discovery``; received calls land in ``app["calls"]``."""
    app = web.Application()
    app["calls"] = []

    async def discovery(request: web.Request) -> web.Response:
        app["calls"].append((request.headers.get("Authorization"), await request.json()))
        return web.json_response({"result": "ok", "data": {"uuid": "0123abcd"}})

    app.router.add_post("/discovery", discovery)
    return app
