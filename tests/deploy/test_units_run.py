"""The installed units' command lines run as plain processes, with the environment their
units give them (``Environment=``, ``EnvironmentFile=`` as installed), and the services
answer: what systemd would start, without systemd (PID 1 here is not systemd).

Paths under ``/opt/makerhub``, ``/etc/makerhub`` and ``/var/lib/makerhub`` are moved into
the staging root the install command wrote; its venvs are this test run's own."""

from __future__ import annotations

from collections.abc import Iterator
import getpass
import json
import os
from pathlib import Path
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from dev.processes.desktops_process import remove_desktop_users
from dev.processes.ports import free_port

from .test_install import install
from .units import service_command

pytestmark = pytest.mark.e2e


@pytest.fixture
def root() -> Iterator[Path]:
    """The stack installed into a staging root, with this run's venv as its venvs.

    Under a folder others may traverse (0711), as ``/`` is: the desktops service checks
    that its desktops' users can reach their homes in its data folder."""
    staging = Path(tempfile.mkdtemp(prefix="mh-install-"))
    staging.chmod(0o711)
    target = staging / "root"
    result = install(target)
    assert result.returncode == 0, result.stderr
    for venv in ("homeassistant", "services"):
        (target / "opt" / "makerhub" / venv).symlink_to(Path(sys.prefix))
    yield target
    shutil.rmtree(staging, ignore_errors=True)


def rebase(root: Path) -> dict[str, Path]:
    return {
        f"/{prefix}/": root / prefix
        for prefix in ("opt/makerhub", "etc/makerhub", "var/lib/makerhub", "var/lib/mosquitto")
    }


def set_setting(root: Path, file: str, key: str, value: str) -> None:
    """Change one line of an installed settings file, as an administrator would."""
    path = root / "etc" / "makerhub" / file
    text, count = re.subn(rf"(?m)^{key}=.*$", f"{key}={value}", path.read_text())
    assert count == 1, f"{key} not in {file}"
    path.write_text(text)


class Started:
    """A unit's command run as a plain process (stopped, by its own id, at the end)."""

    def __init__(self, root: Path, unit: str, log: Path) -> None:
        self.arguments, environment = service_command(
            root / "etc" / "systemd" / "system" / unit, rebase(root)
        )
        self.log = log
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                self.arguments,
                env={"PATH": os.environ["PATH"], "HOME": str(log.parent), **environment},
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_for(self, url: str, headers: dict[str, str], timeout: float) -> int:
        """Return the HTTP status of ``url`` once it answers (any status)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"exited {self.process.returncode}:\n{self.tail()}")
            try:
                request = urllib.request.Request(url, headers=headers)
                with urllib.request.urlopen(request, timeout=5) as response:
                    return int(response.status)
            except urllib.error.HTTPError as err:
                return err.code
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"{url} did not answer in {timeout} s:\n{self.tail()}")

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[Started]]:
    processes: list[Started] = []
    yield processes
    for process in processes:
        process.stop()


def test_firmware_service_from_its_unit(
    socket_enabled: None, root: Path, tmp_path: Path, started: list[Started]
) -> None:
    port = free_port()
    set_setting(root, "firmware.env", "MAKERHUB_FIRMWARE_PORT", str(port))
    service = Started(root, "makerhub-firmware.service", tmp_path / "firmware.log")
    started.append(service)
    token = (root / "etc" / "makerhub" / "firmware.token").read_text().strip()
    url = f"http://127.0.0.1:{port}/api/health"
    assert service.wait_for(url, {"Authorization": f"Bearer {token}"}, 60) == 200
    assert service.wait_for(url, {"Authorization": "Bearer wrong-token-wrong"}, 10) == 401
    assert service.arguments[service.arguments.index("--data") + 1] == str(
        root / "var" / "lib" / "makerhub" / "firmware"
    )


def test_desktops_service_from_its_unit(
    socket_enabled: None, root: Path, tmp_path: Path, started: list[Started]
) -> None:
    port = free_port()
    prefix = "i" + secrets.token_hex(3)[:5] + "-"
    set_setting(root, "desktops.env", "MAKERHUB_DESKTOPS_PORT", str(port))
    set_setting(root, "desktops.env", "MAKERHUB_DESKTOPS_USER_PREFIX", prefix)
    service = Started(root, "makerhub-desktops.service", tmp_path / "desktops.log")
    started.append(service)
    try:
        token = (root / "etc" / "makerhub" / "desktops.token").read_text().strip()
        url = f"http://127.0.0.1:{port}/api/health"
        assert service.wait_for(url, {"Authorization": f"Bearer {token}"}, 60) == 200
        assert service.arguments[service.arguments.index("--user-prefix") + 1] == prefix
    finally:
        service.stop()
        remove_desktop_users(prefix)


def test_recorder_service_from_its_unit(
    socket_enabled: None, root: Path, tmp_path: Path, started: list[Started]
) -> None:
    port = free_port()
    recordings = tmp_path / "large-disk" / "recordings"
    set_setting(root, "recorder.env", "MAKERHUB_RECORDER_PORT", str(port))
    set_setting(root, "recorder.env", "MAKERHUB_RECORDER_RECORDINGS", str(recordings))
    service = Started(root, "makerhub-recorder.service", tmp_path / "recorder.log")
    started.append(service)
    token = (root / "etc" / "makerhub" / "recorder.token").read_text().strip()
    url = f"http://127.0.0.1:{port}/api/health"
    assert service.wait_for(url, {"Authorization": f"Bearer {token}"}, 60) == 200
    assert service.wait_for(url, {"Authorization": "Bearer wrong-token-wrong"}, 10) == 401
    assert service.arguments[service.arguments.index("--data") + 1] == str(
        root / "var" / "lib" / "makerhub" / "recorder"
    )
    # The recordings go where the settings say (the large disk), not under the data folder.
    assert service.arguments[service.arguments.index("--recordings") + 1] == str(recordings)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/storage", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    assert recordings.is_dir()


def start_installed_broker(root: Path, tmp_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start Mosquitto as Debian's mosquitto.service does, ``mosquitto -c
    /etc/mosquitto/mosquitto.conf`` including ``conf.d``: here a main config of the same
    kind includes the installed one (its port and the dynamic-security file moved into the
    test's); return the process and its port once the generated admin is let in."""
    port = free_port()
    conf_d = tmp_path / "conf.d"
    conf_d.mkdir()
    installed = (root / "etc" / "mosquitto" / "conf.d" / "makerhub.conf").read_text()
    assert "listener 1883\n" in installed
    (conf_d / "makerhub.conf").write_text(
        installed.replace("listener 1883\n", f"listener {port} 127.0.0.1\n").replace(
            "/var/lib/mosquitto/", f"{root}/var/lib/mosquitto/"
        )
    )
    main = tmp_path / "mosquitto.conf"
    main.write_text(f"user {getpass.getuser()}\npersistence false\ninclude_dir {conf_d}\n")
    log = tmp_path / "mosquitto.log"
    with log.open("wb") as output:
        broker = subprocess.Popen(
            ["mosquitto", "-c", str(main)], stdout=output, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 30
    while True:
        listed = dynsec(root, port, "listClients")
        if listed.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert listed.returncode == 0, listed.stderr + log.read_text()
    return broker, port


def dynsec(root: Path, port: int, *command: str) -> subprocess.CompletedProcess[str]:
    """Run ``mosquitto_ctrl -u admin dynsec COMMAND`` with the generated admin password."""
    password = (root / "etc" / "makerhub" / "broker-admin.secret").read_text().strip()
    return subprocess.run(
        ["mosquitto_ctrl", "-h", "127.0.0.1", "-p", str(port), "-u", "admin", "-P", password,
         "dynsec", *command],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )  # fmt: skip


def test_broker_with_the_installed_config(
    socket_enabled: None, root: Path, tmp_path: Path, started: list[Started]
) -> None:
    """The installed broker configuration: the generated admin is the only client, and
    anonymous clients are refused."""
    broker, port = start_installed_broker(root, tmp_path)
    try:
        assert dynsec(root, port, "listClients").stdout.split() == ["admin"]
        anonymous = subprocess.run(
            ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", "x", "-m", "1"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert anonymous.returncode != 0
        assert "not authorised" in anonymous.stderr.lower()
    finally:
        broker.terminate()
        broker.wait(30)


def test_home_assistant_from_its_unit(
    socket_enabled: None, root: Path, tmp_path: Path, started: list[Started]
) -> None:
    """``hass`` with the installed configuration directory (Makerhub in its
    ``custom_components``) answers; ``--skip-pip`` through the settings file, as nothing
    may be downloaded here, and a free port instead of 8123."""
    port = free_port()
    set_setting(root, "homeassistant.env", "MAKERHUB_HASS_OPTIONS", "--skip-pip")
    config = root / "var" / "lib" / "makerhub" / "homeassistant"
    configuration = config / "configuration.yaml"
    configuration.write_text(
        configuration.read_text()
        .replace("server_port: 8123", f"server_port: {port}\n  server_host: 127.0.0.1")
        .replace("default_config:\n", "frontend:\n")
    )
    service = Started(root, "makerhub-homeassistant.service", tmp_path / "hass.log")
    started.append(service)
    assert service.arguments[service.arguments.index("--config") + 1] == str(config)
    assert service.wait_for(f"http://127.0.0.1:{port}/api/onboarding", {}, 240) == 200
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/onboarding", timeout=10) as answer:
        steps = json.loads(answer.read())
    assert {"step": "user", "done": False} in steps
    assert (config / ".storage").is_dir()
