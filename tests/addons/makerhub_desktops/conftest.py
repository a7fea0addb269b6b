"""Fixtures: the desktops service on a real port with a manual clock, real users, git.

Desktops need real operating-system users, so every test gets its own user-name prefix
(``t`` + 5 random characters + ``-``) and, at the end, every process of those users is
killed and the users deleted. The data folder is made under ``/tmp`` with mode 0711
(pytest's own temporary folders are private to root, so no desktop user could reach
its home there).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
import contextlib
from dataclasses import dataclass, field
from pathlib import Path
import pwd
import secrets
import shutil
import tempfile
from typing import Any

import aiohttp
from aiohttp import web
import pytest
import pytest_socket
from yarl import URL

from dev.processes.git_repo import git
from makerhub_desktops import accounts
from makerhub_desktops.api import create_app
from makerhub_desktops.clock import ManualClock
from makerhub_desktops.manager import DesktopManager
from makerhub_desktops.settings import Settings

from .rfbclient import RfbClient

TOKEN = "test-token-0123456789abcdef"


def remove_users(prefix: str) -> None:
    """Kill every process of the users named ``prefix…`` and delete those users."""
    for entry in pwd.getpwall():
        if entry.pw_name.startswith(prefix):
            accounts.remove_account(entry.pw_name)


@pytest.fixture
def user_prefix() -> Iterator[str]:
    """A user-name prefix of this test only; its users are deleted afterwards."""
    prefix = "t" + secrets.token_hex(3)[:5] + "-"
    yield prefix
    remove_users(prefix)


@pytest.fixture
def data_root() -> Iterator[Path]:
    """A folder under /tmp that other users may traverse (0711)."""
    root = Path(tempfile.mkdtemp(prefix="mhd-test-"))
    root.chmod(0o711)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def repos_root(tmp_path: Path) -> Path:
    """The allowed root of local repositories (outside the data folder)."""
    root = tmp_path / "repos"
    root.mkdir()
    return root


def make_repo(root: Path, name: str = "project", files: dict[str, str] | None = None) -> Path:
    """Create a bare repository with one commit of ``files``; return its path."""
    work = root / f"{name}-work"
    bare = root / f"{name}.git"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    for path, text in (files or {"README.md": "# project\n"}).items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "first")
    git(root, "clone", "-q", "--bare", str(work), str(bare))
    return bare


@pytest.fixture
def repo(repos_root: Path) -> Path:
    """A plain project repository."""
    return make_repo(repos_root)


@dataclass
class Service:
    """A running service, its clock and an HTTP client."""

    base: str
    manager: DesktopManager
    clock: ManualClock
    session: aiohttp.ClientSession
    runner: web.AppRunner
    clients: list[RfbClient] = field(default_factory=list)

    async def call(
        self, method: str, path: str, *, token: str | None = TOKEN, **kwargs: Any
    ) -> tuple[int, Any]:
        """Send a request; return the status and the JSON (or text) answer."""
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        url = URL(self.base + path, encoded=True)  # sent as written: no '..' resolved
        async with self.session.request(
            method, url, headers=headers, allow_redirects=False, **kwargs
        ) as response:
            if response.content_type == "application/json":
                return response.status, await response.json()
            return response.status, await response.text()

    async def start(self, project: str, url: str | None = None, **body: Any) -> dict[str, Any]:
        """Start a desktop; fail the test if that does not work."""
        if url is not None:
            body["repository"] = {"url": url, **body.pop("repository", {})}
        status, answer = await self.call("POST", f"/api/desktops/{project}/start", json=body)
        assert status == 200, answer
        return answer

    async def connect_token(self, project: str, role: str) -> str:
        """Issue a connect token."""
        status, answer = await self.call(
            "POST", f"/api/desktops/{project}/connect", json={"role": role}
        )
        assert status == 201, answer
        return str(answer["token"])

    async def rfb(self, project: str, role: str) -> RfbClient:
        """Connect over the raw protocol in ``role``.

        A handshake that times out fails with what the desktop's processes were doing
        (to tell a stopped or busy Xvnc from a proxy that forwarded nothing).
        """
        token = await self.connect_token(project, role)
        try:
            client = await RfbClient.connect(self.session, f"{self.base}/websockify?token={token}")
        except TimeoutError as err:
            raise AssertionError(
                f"no RFB handshake from {project}: {self.diagnose(project)}"
            ) from err
        self.clients.append(client)
        return client

    def diagnose(self, project: str) -> str:
        """Return the desktop's state, its connections and its processes' states."""
        desktop = self.manager.get(project)
        record = desktop.record
        processes = []
        if desktop.account is not None:
            for pid in accounts.processes_of(desktop.account.uid):
                with contextlib.suppress(OSError):
                    stat = Path(f"/proc/{pid}/stat").read_text()
                    name, rest = stat.split("(", 1)[1].rsplit(")", 1)
                    processes.append(f"{name}[{pid}]={rest.split()[0]}")
        return (
            f"state {record.state.value} on :{record.display} (Xvnc {record.xvnc_pid}), "
            f"socket {'present' if desktop.paths.socket.exists() else 'missing'}, "
            f"{desktop.controllers} controller(s), {desktop.viewers} viewer(s), "
            f"processes {' '.join(processes) or 'none'}"
        )


type ServiceFactory = Callable[..., Awaitable[Service]]


@pytest.fixture
def unix_sockets(socket_enabled: None) -> None:
    """Let the proxy reach Xvnc's Unix socket.

    The Home Assistant harness allows connections to 127.0.0.1 only, and calls
    ``socket_allow_hosts`` without Unix sockets; it restores its own guard per test.
    """
    pytest_socket.socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)


@pytest.fixture
async def make_service(
    unix_sockets: None, data_root: Path, repos_root: Path, user_prefix: str
) -> AsyncIterator[ServiceFactory]:
    """Start services with chosen settings; everything is stopped at the end."""
    services: list[Service] = []
    session = aiohttp.ClientSession()

    async def factory(
        name: str = "data", clock: ManualClock | None = None, **overrides: Any
    ) -> Service:
        """A service; with ``tick_interval`` its own ticker runs (else tests call tick)."""
        settings = Settings(
            data_dir=data_root / name,
            token=TOKEN,
            allowed_roots=(repos_root,),
            user_prefix=user_prefix,
            **overrides,
        )
        settings.data_dir.mkdir(exist_ok=True)
        clock = clock or ManualClock()
        manager = DesktopManager(settings, clock)
        ticker = overrides.get("tick_interval") is not None
        runner = web.AppRunner(create_app(manager, ticker=ticker), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        service = Service(f"http://{host}:{port}", manager, clock, session, runner)
        services.append(service)
        return service

    yield factory
    for service in services:
        for client in service.clients:
            await client.close()
        await service.manager.shutdown_all()
        await service.runner.cleanup()
    await session.close()


@pytest.fixture
async def service(make_service: ServiceFactory) -> Service:
    """A service with the default limits."""
    return await make_service()
