"""The service as a plain process: restarts adopt running desktops; kill -9 loses nothing."""

from __future__ import annotations

from collections.abc import Iterator
import json
import os
from pathlib import Path
import signal
import subprocess
import sys
import time

import pytest

from dev.processes.desktops_process import DesktopsServiceProcess, remove_desktop_users
from dev.processes.ports import free_port
from makerhub_desktops.accounts import is_stopped, lookup, processes_of
from makerhub_desktops.settings import load_settings, parse_args

from .conftest import ServiceFactory, make_repo

TOKEN = "process-token-0123456789"


@pytest.fixture
def process_service(
    socket_enabled: None, data_root: Path, repos_root: Path, user_prefix: str
) -> Iterator[DesktopsServiceProcess]:
    service = DesktopsServiceProcess(data_root / "data", TOKEN, user_prefix, repos_root)
    service.start()
    yield service
    service.stop()
    remove_desktop_users(user_prefix)


def windows(display: int, xauthority: Path) -> list[str]:
    result = subprocess.run(
        ["xwininfo", "-root", "-tree"],
        env={"DISPLAY": f":{display}", "XAUTHORITY": str(xauthority), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=10, check=True,
    )  # fmt: skip
    return sorted(
        line.split('"')[1] for line in result.stdout.splitlines() if line.strip().startswith("0x")
        and '"' in line
    )  # fmt: skip


def wait_until(predicate: object, timeout: float = 15.0) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_restart_adopts_the_running_desktops(
    process_service: DesktopsServiceProcess, repos_root: Path
) -> None:
    url = f"file://{make_repo(repos_root)}"
    status, desktop = process_service.call(
        "POST", "/api/desktops/alpha/start", {"repository": {"url": url}}
    )
    assert (status, desktop["state"]) == (200, "running"), desktop
    home = process_service.data_dir / "homes" / "alpha"
    xauthority = home / ".Xauthority"
    wait_until(lambda: {"workspace", "tint2"} <= set(windows(desktop["display"], xauthority)))
    before = windows(desktop["display"], xauthority)
    assert process_service.stop() == 0
    process_service.start()
    status, adopted = process_service.call("GET", "/api/desktops/alpha")
    assert (status, adopted["state"], adopted["display"]) == (200, "running", desktop["display"])
    assert windows(desktop["display"], xauthority) == before


def test_kill_9_of_the_service_and_of_xvnc_loses_nothing(
    process_service: DesktopsServiceProcess, repos_root: Path, user_prefix: str
) -> None:
    url = f"file://{make_repo(repos_root)}"
    process_service.call("POST", "/api/desktops/alpha/start", {"repository": {"url": url}})
    status, desktop = process_service.call("POST", "/api/desktops/alpha/suspend")
    assert (status, desktop["state"]) == (200, "suspended")
    workspace = process_service.data_dir / "homes" / "alpha" / "workspace"
    (workspace / "notes.txt").write_text("unsaved work\n")
    account = lookup(f"{user_prefix}alpha")
    assert account is not None
    assert all(is_stopped(pid) for pid in processes_of(account.uid))
    records = json.loads((process_service.data_dir / "desktops.json").read_text())
    xvnc = records["alpha"]["xvnc_pid"]

    process_service.kill()
    os.kill(xvnc, signal.SIGKILL)
    process_service.start()
    status, after = process_service.call("GET", "/api/desktops/alpha")
    assert (status, after["state"]) == (200, "stopped")
    assert not processes_of(account.uid)  # the leftovers of the killed desktop are ended
    assert (workspace / "notes.txt").read_text() == "unsaved work\n"
    assert (workspace / "README.md").exists()

    status, started = process_service.call("POST", "/api/desktops/alpha/start", {})
    assert (status, started["state"]) == (200, "running")
    assert started["display"] is not None
    status, connect = process_service.call(
        "POST", "/api/desktops/alpha/connect", {"role": "viewer"}
    )
    assert status == 201
    assert connect["url"].startswith("desktop?token=")


def test_options_json_of_the_add_on(tmp_path: Path) -> None:
    (tmp_path / "options.json").write_text(
        json.dumps(
            {
                "api_token": "from-options-0123456789",
                "log_level": "debug",
                "suspend_after": 60,
                "stop_after": 600,
                "max_running": 2,
                "max_desktops": 3,
                "connect_token_ttl": 30,
            }
        )
    )
    settings = load_settings(
        parse_args(["--data", str(tmp_path)]), environ={"SUPERVISOR_TOKEN": "sup"}
    )
    assert settings.token == "from-options-0123456789"
    assert (settings.suspend_after, settings.stop_after) == (60, 600)
    assert (settings.max_running, settings.max_desktops) == (2, 3)
    assert (settings.token_ttl, settings.log_level) == (30, "debug")
    assert settings.trusted_ingress == "172.30.32.2"
    assert settings.allowed_roots == ()
    plain = load_settings(
        parse_args(["--data", str(tmp_path / "plain"), "--token", "cli-token-0123456789",
                    "--suspend-after", "5", "--stop-after", "50"]),
        environ={},
    )  # fmt: skip
    assert (plain.token, plain.suspend_after, plain.stop_after) == ("cli-token-0123456789", 5, 50)
    assert plain.trusted_ingress is None
    assert "cli-token" not in repr(plain)
    generated = load_settings(parse_args(["--data", str(tmp_path / "gen")]), environ={})
    assert (tmp_path / "gen" / "api.token").read_text() == generated.token
    assert (tmp_path / "gen" / "api.token").stat().st_mode & 0o777 == 0o600


def test_healthcheck_uses_the_generated_token(
    socket_enabled: None, data_root: Path, user_prefix: str
) -> None:

    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parents[3] / "addons/makerhub_desktops"),
    }
    env.pop("SUPERVISOR_TOKEN", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "makerhub_desktops", "--data", str(data_root),
         "--host", "127.0.0.1", "--port", str(port), "--user-prefix", user_prefix],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        check_env = {**env, "MAKERHUB_DATA": str(data_root), "MAKERHUB_PORT": str(port)}
        for _ in range(200):
            result = subprocess.run(
                [sys.executable, "-m", "makerhub_desktops.healthcheck"],
                env=check_env, capture_output=True, check=False,
            )  # fmt: skip
            if result.returncode == 0:
                break
            time.sleep(0.1)
        assert result.returncode == 0, result.stderr
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)
    assert process.returncode == 0


async def test_a_user_lost_with_the_container_comes_back_with_its_id(
    make_service: ServiceFactory, repo: Path, user_prefix: str
) -> None:
    first = await make_service()
    await first.start("alpha", f"file://{repo}")
    desktop = first.manager.get("alpha")
    assert desktop.account is not None
    uid = desktop.account.uid
    await first.call("POST", "/api/desktops/alpha/stop")
    await first.runner.cleanup()
    # A new add-on image: /etc/passwd starts empty again, /data is the same; meanwhile
    # other users exist, so a fresh useradd would pick another id.
    subprocess.run(["userdel", "--", f"{user_prefix}alpha"], check=True)
    subprocess.run(
        ["useradd", "--no-create-home", "--uid", str(uid + 5), "--", f"{user_prefix}other"],
        check=True,
    )
    assert lookup(f"{user_prefix}alpha") is None

    second = await make_service()
    started = await second.start("alpha")
    assert started["state"] == "running"
    account = lookup(f"{user_prefix}alpha")
    assert account is not None
    assert account.uid == uid
    workspace = second.manager.get("alpha").paths.workspace
    assert (workspace / "README.md").stat().st_uid == uid
