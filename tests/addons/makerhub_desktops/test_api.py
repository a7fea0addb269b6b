"""The API's authentication and precise errors; credentials never leak; users are apart."""

from __future__ import annotations

import asyncio
import base64
import logging
from pathlib import Path
import pwd
import socket
import subprocess

from aiohttp import web
import pytest

from .conftest import Service, ServiceFactory, make_repo
from .rfbclient import wait_for

CREDENTIAL = "ghs_short-lived-credential-0123456789"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/health"),
        ("GET", "/api/desktops"),
        ("GET", "/api/desktops/alpha"),
        ("POST", "/api/desktops/alpha/start"),
        ("POST", "/api/desktops/alpha/stop"),
        ("POST", "/api/desktops/alpha/suspend"),
        ("POST", "/api/desktops/alpha/connect"),
        ("DELETE", "/api/desktops/alpha"),
        ("GET", "/"),
    ],
)
async def test_every_route_needs_the_bearer_token(service: Service, method: str, path: str) -> None:
    for token in (None, "wrong-token-0123456789"):
        status, body = await service.call(method, path, token=token, json={})
        assert (status, body["error"]) == (401, "unauthorized"), (path, token)


async def test_unknown_project(service: Service) -> None:
    for method, path in (
        ("GET", "/api/desktops/ghost"),
        ("POST", "/api/desktops/ghost/stop"),
        ("POST", "/api/desktops/ghost/suspend"),
        ("POST", "/api/desktops/ghost/connect"),
        ("DELETE", "/api/desktops/ghost"),
    ):
        status, body = await service.call(method, path, json={})
        assert (status, body["error"]) == (404, "unknown_project"), path
        assert "ghost" in body["message"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/desktops/alpha/connect", {"role": "admin"}),
        ("/api/desktops/alpha/connect", {"role": "viewer", "ttl": 86400}),
        ("/api/desktops/alpha/connect", {"role": "viewer", "ttl": True}),
        ("/api/desktops/alpha/start", {"scratch_ttl": "soon"}),
        ("/api/desktops/alpha/start", {"scratch_ttl": -1}),
        ("/api/desktops/alpha/start", {"repository": "file:///x"}),
        ("/api/desktops/alpha/start", {"repository": {"url": "x", "token": 5}}),
        ("/api/desktops/alpha/start", {"repository": {"url": "x", "username": "a:b"}}),
        ("/api/desktops/alpha/start", [1, 2]),
    ],
)
async def test_invalid_requests(service: Service, repo: Path, path: str, body: object) -> None:
    await service.start("alpha", f"file://{repo}")
    status, answer = await service.call("POST", path, json=body)
    assert (status, answer["error"]) == (400, "invalid_request"), answer
    status, answer = await service.call("POST", path, data=b"{not json")
    assert (status, answer["error"]) == (400, "invalid_request")


async def test_a_refused_clone_shows_gits_message_and_never_the_credential(
    make_service: ServiceFactory, caplog: pytest.LogCaptureFixture, user_prefix: str
) -> None:
    seen: list[str] = []

    async def refuse(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        return web.Response(status=403, text=f"denied {CREDENTIAL}")

    git_host = web.Application()
    git_host.router.add_route("GET", "/{tail:.*}", refuse)
    runner = web.AppRunner(git_host)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    service = await make_service(allowed_schemes=frozenset({"https", "ssh", "http"}))
    caplog.set_level(logging.DEBUG)
    try:
        status, body = await service.call(
            "POST",
            "/api/desktops/alpha/start",
            json={"repository": {"url": f"http://127.0.0.1:{port}/ada/thermo.git",
                                 "token": CREDENTIAL}},
        )  # fmt: skip
    finally:
        await runner.cleanup()
    assert (status, body["error"]) == (502, "clone_failed")
    assert "git clone failed" in body["message"]
    assert "403" in body["message"]
    expected = base64.b64encode(f"x-access-token:{CREDENTIAL}".encode()).decode()
    assert seen == [f"Basic {expected}"]  # the credential did reach the host
    for text in (body["message"], caplog.text):
        assert CREDENTIAL not in text
        assert expected not in text
    assert service.manager.desktops == {}


async def test_the_credential_is_not_kept_anywhere(service: Service, repo: Path) -> None:
    await service.start("alpha", f"file://{repo}", repository={"token": CREDENTIAL})
    desktop = service.manager.get("alpha")
    config = (desktop.paths.workspace / ".git" / "config").read_text()
    assert f"url = file://{repo}" in config
    data = service.manager.settings.data_dir
    for path in data.rglob("*"):
        if path.is_file() and not path.is_socket():
            assert CREDENTIAL.encode() not in path.read_bytes(), path
    status, listing = await service.call("GET", "/api/desktops")
    assert status == 200
    assert CREDENTIAL not in str(listing)


def as_user(uid: int, *argv: str, env: dict[str, str] | None = None) -> int:
    return subprocess.run(
        argv, user=uid, group=uid, extra_groups=[], capture_output=True,
        env=env or {"PATH": "/usr/bin:/bin"}, timeout=20, check=False,
    ).returncode  # fmt: skip


async def test_two_projects_users_cannot_read_each_others_files(
    service: Service, repos_root: Path
) -> None:
    await service.start("alpha", f"file://{make_repo(repos_root, 'alpha')}")
    await service.start("beta", f"file://{make_repo(repos_root, 'beta')}")
    alpha, beta = service.manager.get("alpha"), service.manager.get("beta")
    assert alpha.account is not None
    assert beta.account is not None
    assert alpha.account.uid != beta.account.uid
    secret = beta.paths.workspace / "README.md"
    # Each user reads its own files...
    assert as_user(beta.account.uid, "cat", str(secret)) == 0
    assert as_user(alpha.account.uid, "cat", str(alpha.paths.workspace / "README.md")) == 0
    # ...and nothing of the other desktop: files, home, X cookie, VNC socket, display.
    assert as_user(alpha.account.uid, "cat", str(secret)) != 0
    assert as_user(alpha.account.uid, "ls", str(beta.paths.home)) != 0
    assert as_user(alpha.account.uid, "cat", str(beta.paths.xauthority)) != 0
    connect = f"import socket; socket.socket(socket.AF_UNIX).connect({str(beta.paths.socket)!r})"
    assert as_user(alpha.account.uid, "python3", "-c", connect) != 0
    display = {
        "PATH": "/usr/bin:/bin",
        "DISPLAY": f":{beta.record.display}",
        "XAUTHORITY": str(alpha.paths.xauthority),
    }
    assert as_user(alpha.account.uid, "xwininfo", "-root", env=display) != 0
    own_display = {**display, "DISPLAY": f":{alpha.record.display}"}
    assert as_user(alpha.account.uid, "xwininfo", "-root", env=own_display) == 0
    # No desktop listens on TCP: neither X (6000+n) nor RFB (5900+n).
    for port in (6000 + (beta.record.display or 0), 5900 + (beta.record.display or 0)):
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0


async def test_forget_deletes_the_user_and_the_home(
    service: Service, repo: Path, user_prefix: str
) -> None:
    await service.start("alpha", f"file://{repo}")
    home = service.manager.get("alpha").paths.home
    status, _ = await service.call("DELETE", "/api/desktops/alpha")
    assert status == 204
    assert not home.exists()
    status, body = await service.call("GET", "/api/desktops/alpha")
    assert (status, body["error"]) == (404, "unknown_project")
    assert not [u for u in pwd.getpwall() if u.pw_name.startswith(user_prefix)]


async def test_requests_through_ingress_need_no_token(
    make_service: ServiceFactory, repo: Path
) -> None:
    service = await make_service(trusted_ingress="127.0.0.1")
    ingress = {"X-Ingress-Path": "/api/hassio_ingress/abc"}
    status, _ = await service.call("GET", "/api/desktops", token=None, headers=ingress)
    assert status == 200
    status, page = await service.call("GET", "/", token=None, headers=ingress)
    assert status == 200
    assert "Makerhub desktops" in page
    status, _ = await service.call("GET", "/api/desktops", token=None)
    assert status == 401


async def test_two_starts_at_once_clone_once(service: Service, repo: Path) -> None:
    body = {"repository": {"url": f"file://{repo}"}}
    first, second = await asyncio.gather(
        service.call("POST", "/api/desktops/alpha/start", json=body),
        service.call("POST", "/api/desktops/alpha/start", json=body),
    )
    assert first[0] == second[0] == 200
    assert first[1]["display"] == second[1]["display"]
    assert list(service.manager.desktops) == ["alpha"]
    assert [p.name for p in service.manager.staging.iterdir()] == [".home"]


async def test_the_service_announces_itself_to_home_assistant(
    make_service: ServiceFactory,
) -> None:
    announced: list[tuple[str, dict[str, object]]] = []

    async def discovery(request: web.Request) -> web.Response:
        announced.append((request.headers["Authorization"], await request.json()))
        return web.json_response({"result": "ok", "data": {"uuid": "abc123"}})

    supervisor = web.Application()
    supervisor.router.add_post("/discovery", discovery)
    runner = web.AppRunner(supervisor)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        service = await make_service(
            supervisor_token="supervisor-token",
            supervisor_url=f"http://127.0.0.1:{runner.addresses[0][1]}",
        )
        await wait_for(lambda: bool(announced))
    finally:
        await runner.cleanup()
    authorization, payload = announced[0]
    assert authorization == "Bearer supervisor-token"
    assert payload["service"] == "makerhub"
    assert payload["config"] == {
        "kind": "desktops",
        "host": socket.gethostname(),
        "port": service.manager.settings.port,
        "token": service.manager.settings.token,
    }
