"""The real desktops service as a process, for the integration's tests.

:func:`desktops_service` starts ``python -m makerhub_desktops`` (``dev/processes``) with a
user-name prefix of its own, a data folder under ``/tmp`` that desktop users may traverse
(0711) and one allowed root of local repositories; at the end it stops the service, kills
every process of its users, deletes them and the folders. :func:`bare_repo` makes a
project repository to clone through ``file://``.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
from pathlib import Path
import secrets
import shutil
import tempfile

from dev.processes.desktops_process import DesktopsServiceProcess, remove_desktop_users
from dev.processes.git_repo import git

TOKEN = "desktops-token-0123456789abcdef"


@contextlib.contextmanager
def desktops_service(token: str = TOKEN) -> Iterator[DesktopsServiceProcess]:
    """Run the service until the block ends; remove its users and folders then."""
    root = Path(tempfile.mkdtemp(prefix="mhd-ha-"))
    root.chmod(0o711)
    repos = root / "repos"
    repos.mkdir()
    prefix = "h" + secrets.token_hex(3)[:5] + "-"
    service = DesktopsServiceProcess(root / "data", token, prefix, repos)
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
    return f"file://{bare}"
