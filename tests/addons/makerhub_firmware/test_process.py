"""The service as a plain process, and its settings from the add-on's options.json."""

from __future__ import annotations

import json
import os
from pathlib import Path
import signal
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request

from dev.processes.ports import free_port
from makerhub_firmware.settings import load_settings, parse_args

ROOT = Path(__file__).resolve().parents[3]


def get(url: str, token: str | None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def start_service(data: Path, port: int, *extra: str) -> tuple[subprocess.Popen[bytes], dict]:
    """Start ``python -m makerhub_firmware`` as the add-on's entry point would."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "addons/makerhub_firmware")}
    env.pop("SUPERVISOR_TOKEN", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "makerhub_firmware",
            "--data",
            str(data),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    return process, env


def test_runs_as_a_plain_process(socket_enabled: None, tmp_path: Path) -> None:
    port = free_port()
    token = "process-token-0123456789"
    process, env = start_service(
        tmp_path / "data", port, "--token", token, "--allow-url-scheme", "file"
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                status, body = get(f"http://127.0.0.1:{port}/api/health", token)
                break
            except OSError:
                assert time.monotonic() < deadline, "service did not start"
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                time.sleep(0.1)
        assert (status, body["status"]) == (200, "ok")
        assert get(f"http://127.0.0.1:{port}/api/repos", None)[0] == 401
        health = subprocess.run(
            [sys.executable, "-m", "makerhub_firmware.healthcheck"],
            env={**env, "MAKERHUB_DATA": str(tmp_path / "data"), "MAKERHUB_PORT": str(port)},
            capture_output=True,
            check=False,
        )
        assert health.returncode == 1  # the token was given on the command line, not stored
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=20)[0].decode()
    assert process.returncode == 0, output
    assert token not in output
    key = tmp_path / "data" / "secrets.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_healthcheck_uses_the_generated_token(socket_enabled: None, tmp_path: Path) -> None:
    port = free_port()
    process, env = start_service(tmp_path, port)
    try:
        check_env = {**env, "MAKERHUB_DATA": str(tmp_path), "MAKERHUB_PORT": str(port)}
        for _ in range(200):
            result = subprocess.run(
                [sys.executable, "-m", "makerhub_firmware.healthcheck"],
                env=check_env,
                capture_output=True,
                check=False,
            )
            if result.returncode == 0:
                break
            time.sleep(0.1)
        assert result.returncode == 0, result.stderr
        token_file = tmp_path / "api.token"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)


def test_options_json_of_the_add_on(tmp_path: Path) -> None:
    (tmp_path / "options.json").write_text(
        json.dumps(
            {
                "api_token": "from-options-0123456789",
                "external_url": "http://hub.local:8099",
                "log_level": "debug",
                "max_file_size_mib": 2,
                "cache_size_mib": 64,
            }
        )
    )
    settings = load_settings(
        parse_args(["--data", str(tmp_path)]), environ={"SUPERVISOR_TOKEN": "sup"}
    )
    assert settings.token == "from-options-0123456789"
    assert settings.external_url == "http://hub.local:8099"
    assert settings.max_file_size == 2 * 1024 * 1024
    assert settings.cache_max_bytes == 64 * 1024 * 1024
    assert settings.log_level == "debug"
    assert settings.trusted_ingress == "172.30.32.2"
    assert settings.supervisor_token == "sup"
    assert settings.allowed_schemes == frozenset({"https", "ssh"})
    plain = load_settings(
        parse_args(["--data", str(tmp_path / "plain"), "--token", "cli-token-0123456789"]),
        environ={},
    )
    assert plain.token == "cli-token-0123456789"
    assert plain.trusted_ingress is None
    assert "cli-token" not in repr(plain)
