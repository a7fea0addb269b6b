"""The real desktops service as a process, for the integration's tests.

:func:`desktops_service` starts ``python -m makerhub_desktops`` (``dev/processes``) with a
user-name prefix of its own, a data folder under ``/tmp`` that desktop users may traverse
(0711) and one allowed root of local repositories; at the end it stops the service, kills
every process of its users, deletes them and the folders. :func:`bare_repo` makes a
project repository to clone through ``file://``; :func:`git_http_server` serves that root
over git's "dumb" HTTP on 127.0.0.1, for a project's ``http://`` repository URL (the
service then runs with ``--allow-url-scheme http``).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
import contextlib
import functools
import http.server
from pathlib import Path
import secrets
import shutil
import subprocess
import tempfile
import threading

from dev.processes.desktops_process import DesktopsServiceProcess, remove_desktop_users
from dev.processes.git_repo import git

TOKEN = "desktops-token-0123456789abcdef"


@contextlib.contextmanager
def desktops_service(
    token: str = TOKEN, *, allow_http: bool = False
) -> Iterator[DesktopsServiceProcess]:
    """Run the service until the block ends; remove its users and folders then."""
    root = Path(tempfile.mkdtemp(prefix="mhd-ha-"))
    root.chmod(0o711)
    repos = root / "repos"
    repos.mkdir()
    prefix = "h" + secrets.token_hex(3)[:5] + "-"
    extra = ("--allow-url-scheme", "http") if allow_http else ()
    service = DesktopsServiceProcess(root / "data", token, prefix, repos, extra_args=extra)
    try:
        service.start()
        yield service
    finally:
        service.stop()
        remove_desktop_users(prefix)
        shutil.rmtree(root, ignore_errors=True)


def bare_repo(service: DesktopsServiceProcess, name: str = "project") -> str:
    """Create a bare repository with one commit under the allowed root; return its URL."""
    work = service.file_root / f"{name}-work"
    bare = service.file_root / f"{name}.git"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    (work / "README.md").write_text(f"# {name}\n")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "first")
    git(service.file_root, "clone", "-q", "--bare", str(work), str(bare))
    git(bare, "update-server-info")
    return f"file://{bare}"


class _GitHandler(http.server.SimpleHTTPRequestHandler):
    """Files of the root; with ``authorization`` set, only to requests that carry it."""

    authorization: str | None = None

    def do_GET(self) -> None:
        """Answer 401 without the expected ``Authorization`` header."""
        if self.authorization is not None and (
            self.headers.get("Authorization") != self.authorization
        ):
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's name)
        """Log nothing."""


@contextlib.contextmanager
def git_http_server(root: Path, credential: str | None = None) -> Iterator[str]:
    """Serve ``root`` over HTTP on 127.0.0.1 until the block ends; yield its base URL.

    With ``credential``, only requests authenticated as ``x-access-token`` with it (HTTP
    basic, as GitHub takes a token) get the files.
    """
    pair = base64.b64encode(f"x-access-token:{credential}".encode()).decode()
    handler_class = type(
        "Handler",
        (_GitHandler,),
        {"authorization": None if credential is None else f"Basic {pair}"},
    )
    handler = functools.partial(handler_class, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def x_display_env(display: int, xauthority: Path) -> dict[str, str]:
    """Return the environment that looks into a desktop's X display (as root, with its
    cookie)."""
    return {"DISPLAY": f":{display}", "XAUTHORITY": str(xauthority), "PATH": "/usr/bin:/bin"}


def focused_window_name(env: dict[str, str]) -> str | None:
    """Return the name of the window the desktop's window manager gave the focus to."""
    root = subprocess.run(
        ["xprop", "-root", "_NET_ACTIVE_WINDOW"],
        env=env, capture_output=True, text=True, timeout=10, check=True,
    )  # fmt: skip
    window = root.stdout.rsplit(" ", 1)[-1].strip()
    if not window.startswith("0x") or int(window, 16) == 0:
        return None
    info = subprocess.run(
        ["xwininfo", "-id", window],
        env=env, capture_output=True, text=True, timeout=10, check=False,
    )  # fmt: skip
    first = next((line for line in info.stdout.splitlines() if "xwininfo:" in line), "")
    return first.split('"')[1] if '"' in first else None
