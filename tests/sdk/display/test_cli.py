"""Installing and running the agent: ``makerhub-display setup`` and ``run`` as systemd would."""

from __future__ import annotations

from pathlib import Path
import signal
import subprocess
import sys

import pytest

from dev.processes.mosquitto import MosquittoBroker
from makerhub_display.cli import main
from makerhub_display.config import ConfigError, DisplayConfig
from tests.helpers.xvfb import VirtualScreen
from tests.sdk.wire import FakeHub, Recorder

from .conftest import CHROMIUM, CHROMIUM_ARGS, wait_until

REPO = Path(__file__).resolve().parents[3]


def test_setup_writes_a_private_config_and_the_user_unit(tmp_path: Path) -> None:
    config, units = tmp_path / "config.json", tmp_path / "systemd"
    code = main(
        ["setup", "--config", str(config), "--mqtt-host", "broker.local", "--mqtt-username",
         "display-1", "--mqtt-password", "s3cret", "--announce-id", "workbench",
         "--name", "Workbench", "--ha-url", "http://ha.local:8123", "--systemd-dir", str(units),
         "--no-enable"]
    )  # fmt: skip
    assert code == 0
    assert config.stat().st_mode & 0o777 == 0o600  # it holds the broker password
    loaded = DisplayConfig.load(config)
    assert (loaded.mqtt_host, loaded.mqtt_username, loaded.announce_id) == (
        "broker.local", "display-1", "workbench"
    )  # fmt: skip
    assert loaded.redacted()["mqtt_password"] == "**REDACTED**"
    unit = (units / "makerhub-display.service").read_text()
    assert "ExecStart=" in unit
    assert " run --config %h/.config/makerhub-display/config.json" in unit
    assert "WantedBy=graphical-session.target" in unit
    assert "@EXECUTABLE@" not in unit


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("[1]", "a JSON object is needed"),
        ('{"mqtt_host": "h", "colour": 1}', "unknown keys colour"),
        ('{"mqtt_port": 1}', "mqtt_host is required"),
        ('{"mqtt_host": "h", "mqtt_port": 70000}', "mqtt_port must be a port number"),
        ('{"mqtt_host": "h", "announce_id": "Bad Id"}', "announce_id must be lower-case"),
        ('{"mqtt_host": "h", "offline_idle_after": -1}', "offline_idle_after must be seconds"),
        ('{"mqtt_host": "h", "ha_url": "file:///x"}', "ha_url must be an http or https"),
    ],
)
def test_bad_configuration_is_refused_precisely(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        DisplayConfig.load(path)
    assert main(["run", "--config", str(path)]) == 2


def test_run_announces_shows_idle_and_ends_on_sigterm(
    broker: MosquittoBroker, hub: FakeHub, recorder: Recorder, screen: VirtualScreen, tmp_path: Path
) -> None:
    no_tools = tmp_path / "no-power-tools"
    no_tools.mkdir()
    config = DisplayConfig(
        mqtt_host=broker.host,
        mqtt_port=broker.port,
        announce_id="workbench",
        name="Workbench",
        state_dir=str(tmp_path / "state"),
        chromium=CHROMIUM,
        chromium_args=list(CHROMIUM_ARGS),
        power_path=str(no_tools),
    )
    config.save(tmp_path / "config.json")
    env = dict(screen.env, PYTHONPATH=str(REPO / "sdk" / "python"))
    command = [sys.executable, "-m", "makerhub_display", "run", "--config"]
    agent = subprocess.Popen(
        [*command, str(tmp_path / "config.json")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        hub.wait_adopted(1, timeout=60)
        uid = hub.uids["workbench"]
        assert recorder.wait_texts(f"makerhub/{uid}/out/showing", timeout=60) == ["idle"]
        assert recorder.wait_texts(f"makerhub/{uid}/out/power_method", timeout=30) == ["overlay"]
        assert (tmp_path / "state" / "idle.html").exists()
        # Chromium's profile lock names its process: "<host>-<pid>".
        lock = tmp_path / "state" / "chromium" / "SingletonLock"
        chromium_pid = int(str(lock.readlink()).rsplit("-", 1)[1])
        assert Path(f"/proc/{chromium_pid}").exists()
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(60) == 0
        wait_until(
            lambda: "offline" in recorder.texts(f"makerhub/{uid}/sys/status"), "offline on exit"
        )
    finally:
        if agent.poll() is None:
            agent.kill()
        output = agent.communicate()[0]
    assert "ddcutil is not installed" in output
    # The agent closed its Chromium on the way out.
    wait_until(lambda: not Path(f"/proc/{chromium_pid}").exists(), "Chromium ended")
