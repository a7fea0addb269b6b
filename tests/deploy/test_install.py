"""``scripts/install`` into a staging root: what it writes, that a second run changes
nothing, and that the units pass ``systemd-analyze verify``.

PID 1 here is not systemd, so systemd itself cannot start the units; the units' own
command lines are run as plain processes in ``test_units_run.py``."""

from __future__ import annotations

import json
import os
from pathlib import Path
import shutil
import stat
import subprocess
import sys

import pytest

from .units import read_unit

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "scripts" / "install"
DEPLOY = REPO / "deploy"
SERVICES = (
    "makerhub-homeassistant",
    "makerhub-firmware",
    "makerhub-desktops",
    "makerhub-recorder",
)


def install(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``scripts/install --root ROOT``."""
    return subprocess.run(
        ["bash", str(INSTALL), "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A staging root the install command has written the stack into."""
    target = tmp_path / "root"
    result = install(target)
    assert result.returncode == 0, result.stderr
    return target


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``root`` with its content and mode."""
    return {
        str(path.relative_to(root)): (path.read_bytes(), stat.S_IMODE(path.stat().st_mode))
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing: scripts/lib/bootstrap.sh installs it"
    result = subprocess.run(
        [shellcheck, "-x", str(INSTALL)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout


def test_install_writes_the_stack(root: Path) -> None:
    units = root / "etc" / "systemd" / "system"
    for unit in (*[f"{name}.service" for name in SERVICES], "makerhub.target"):
        assert (units / unit).read_text() == (DEPLOY / "systemd" / unit).read_text()
        assert stat.S_IMODE((units / unit).stat().st_mode) == 0o644
    for drop_in in ("mosquitto.service.d/makerhub.conf", "postgresql@.service.d/makerhub.conf"):
        assert (units / drop_in).read_text() == (DEPLOY / "systemd" / drop_in).read_text()

    rules = root / "etc" / "polkit-1" / "rules.d" / "50-makerhub.rules"
    assert rules.read_text() == (DEPLOY / "polkit" / "makerhub.rules").read_text()
    assert stat.S_IMODE(rules.stat().st_mode) == 0o644

    etc = root / "etc" / "makerhub"
    for secret, mode in (  # the services' groups are added on a real machine
        ("firmware.token", 0o640),
        ("desktops.token", 0o600),
        ("recorder.token", 0o640),
        ("broker-admin.secret", 0o600),
        ("telemetry.secret", 0o640),
    ):
        assert len((etc / secret).read_text().strip()) >= 32
        assert stat.S_IMODE((etc / secret).stat().st_mode) == mode, secret
    secrets = (
        "firmware.token",
        "desktops.token",
        "recorder.token",
        "broker-admin.secret",
        "telemetry.secret",
    )
    assert len({(etc / name).read_text() for name in secrets}) == len(secrets)
    for name in ("homeassistant", "firmware", "desktops", "recorder"):
        assert (etc / f"{name}.env").read_text() == (DEPLOY / "env" / f"{name}.env").read_text()

    broker = (root / "etc" / "mosquitto" / "conf.d" / "makerhub.conf").read_text()
    plugin = next(line.split()[1] for line in broker.splitlines() if line.startswith("plugin "))
    assert Path(plugin).is_file(), plugin
    assert "@" not in broker
    dynsec = json.loads((root / "var" / "lib" / "mosquitto" / "dynamic-security.json").read_text())
    assert [client["username"] for client in dynsec["clients"]] == ["admin"]

    hass = root / "var" / "lib" / "makerhub" / "homeassistant"
    assert (hass / "custom_components" / "makerhub" / "manifest.json").read_text() == (
        REPO / "custom_components" / "makerhub" / "manifest.json"
    ).read_text()
    assert not list(hass.rglob("__pycache__"))
    assert (hass / "configuration.yaml").read_text() == (
        DEPLOY / "homeassistant" / "configuration.yaml"
    ).read_text()
    for addon in ("makerhub_firmware", "makerhub_desktops", "makerhub_recorder"):
        source = root / "opt" / "makerhub" / "src" / "addons" / addon / addon
        assert (source / "__main__.py").read_text() == (
            REPO / "addons" / addon / addon / "__main__.py"
        ).read_text()
    # Nothing of the machine itself: no venvs without --venvs, no units outside the root.
    assert not (root / "opt" / "makerhub" / "homeassistant").exists()


def test_a_second_run_changes_nothing_and_keeps_what_the_admin_made(root: Path) -> None:
    before = snapshot(root)
    again = install(root)
    assert again.returncode == 0, again.stderr
    assert "nothing to change: already installed" in again.stderr
    assert snapshot(root) == before

    # The administrator's settings stay; a changed unit or code file is put back.
    settings = root / "etc" / "makerhub" / "firmware.env"
    settings.write_text(settings.read_text() + "MAKERHUB_FIRMWARE_OPTIONS=--log-level debug\n")
    unit = root / "etc" / "systemd" / "system" / "makerhub-firmware.service"
    unit.write_text(unit.read_text().replace("Restart=on-failure", "Restart=no"))
    stray = root / "opt" / "makerhub" / "src" / "addons" / "makerhub_firmware"
    (stray / "makerhub_firmware" / "old_module.py").write_text("")
    token = (root / "etc" / "makerhub" / "firmware.token").read_text()
    third = install(root)
    assert third.returncode == 0, third.stderr
    assert "wrote /etc/systemd/system/makerhub-firmware.service" in third.stderr
    assert "Restart=on-failure" in unit.read_text()
    assert not (stray / "makerhub_firmware" / "old_module.py").exists()
    assert "--log-level debug" in settings.read_text()
    assert (root / "etc" / "makerhub" / "firmware.token").read_text() == token


def test_help_says_what_it_does(tmp_path: Path) -> None:
    result = install(tmp_path / "root", "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("Install the Makerhub stack on a plain Debian machine")
    assert result.stdout.rstrip().endswith("keeps tokens, passwords and data.")
    assert not (tmp_path / "root" / "etc").exists()


def test_unknown_options_are_refused(tmp_path: Path) -> None:
    result = install(tmp_path / "root", "--frobnicate")
    assert result.returncode != 0
    assert "unknown option --frobnicate" in result.stderr


def verify(units: Path) -> subprocess.CompletedProcess[str]:
    """``systemd-analyze verify`` of the Makerhub units with ``units`` first on the unit
    path (then the machine's own: Debian's mosquitto and postgresql units, which the
    drop-ins extend)."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing (Debian's systemd package)"
    return subprocess.run(
        [
            analyze, "verify", "makerhub.target", *[f"{name}.service" for name in SERVICES],
            "mosquitto.service", "postgresql@15-main.service",
        ],
        env={**os.environ, "SYSTEMD_UNIT_PATH": f"{units}:"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip


@pytest.fixture
def verifiable_units(root: Path, tmp_path: Path) -> Path:
    """The installed units, their ``/opt/makerhub`` paths moved into the staging root,
    whose venvs are this test run's own (``verify`` checks that each command exists)."""
    for venv in ("homeassistant", "services"):
        (root / "opt" / "makerhub" / venv).symlink_to(Path(sys.prefix))
    units = tmp_path / "units"
    shutil.copytree(root / "etc" / "systemd" / "system", units)
    for unit in units.glob("*.service"):
        unit.write_text(unit.read_text().replace("/opt/makerhub/", f"{root}/opt/makerhub/"))
    return units


def test_units_pass_systemd_analyze_verify(verifiable_units: Path) -> None:
    result = verify(verifiable_units)
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""


def test_systemd_analyze_verify_sees_a_broken_unit_and_drop_in(verifiable_units: Path) -> None:
    """The check above can fail: a bad value in a unit and an unknown key in a drop-in
    are reported (systemd still exits 0 for them, hence the test on the output)."""
    firmware = verifiable_units / "makerhub-firmware.service"
    firmware.write_text(firmware.read_text().replace("Restart=on-failure", "Restart=sometimes"))
    drop_in = verifiable_units / "mosquitto.service.d" / "makerhub.conf"
    drop_in.write_text(drop_in.read_text() + "Restartt=always\n")
    output = verify(verifiable_units).stderr
    assert "makerhub-firmware.service:" in output
    assert "Failed to parse service restart specifier" in output
    assert "mosquitto.service.d/makerhub.conf" in output
    assert "Unknown key 'Restartt'" in output


def test_every_service_restarts_with_backoff_and_limits() -> None:
    """Each Makerhub service is part of the target, restarts on failure after a pause, gives
    up after a burst (``StartLimit*``), has a memory limit; the target wants each one."""
    target = read_unit(DEPLOY / "systemd" / "makerhub.target")
    wanted = target["Unit"]["Wants"].split()
    for name in SERVICES:
        unit = read_unit(DEPLOY / "systemd" / f"{name}.service")
        assert f"{name}.service" in wanted
        assert unit["Unit"]["PartOf"] == "makerhub.target"
        assert unit["Install"]["WantedBy"] == "makerhub.target"
        assert unit["Service"]["Restart"] == "on-failure"
        assert int(unit["Service"]["RestartSec"]) >= 5
        assert int(unit["Unit"]["StartLimitBurst"]) >= 3
        assert int(unit["Unit"]["StartLimitIntervalSec"]) >= 300
        assert unit["Service"]["MemoryMax"].endswith(("M", "G"))
    hass = read_unit(DEPLOY / "systemd" / "makerhub-homeassistant.service")
    assert "mosquitto.service" in hass["Unit"]["After"]
    assert "postgresql.service" in hass["Unit"]["After"]
    for drop_in in ("mosquitto.service.d", "postgresql@.service.d"):
        service = read_unit(DEPLOY / "systemd" / drop_in / "makerhub.conf")["Service"]
        assert service["Restart"] == "on-failure"
    assert {"mosquitto.service", "postgresql.service"} <= set(wanted)


def polkit_answer(action_id: str, user: str, verb: str, unit: str) -> str:
    """Return what the shipped polkit rule answers, run by Node.js with polkit's API."""
    node = shutil.which("node")
    assert node, "node is missing (Debian's nodejs package)"
    script = """
    const fs = require("fs");
    const [rules, id, user, verb, unit] = process.argv.slice(1);
    const polkit = {
      Result: {YES: "yes", NO: "no", NOT_HANDLED: "not_handled"},
      rules: [],
      addRule(rule) { this.rules.push(rule); },
    };
    new Function("polkit", fs.readFileSync(rules, "utf8"))(polkit);
    const action = {id, lookup: (key) => ({verb, unit})[key]};
    for (const rule of polkit.rules) {
      const answer = rule(action, {user});
      if (answer !== undefined && answer !== polkit.Result.NOT_HANDLED) {
        console.log(answer);
        process.exit(0);
      }
    }
    console.log("not_handled");
    """
    result = subprocess.run(
        [
            node,
            "-e",
            script,
            str(DEPLOY / "polkit" / "makerhub.rules"),
            action_id,
            user,
            verb,
            unit,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_the_polkit_rule_lets_home_assistant_restart_only_the_services() -> None:
    """Health restarts a service with ``systemctl restart makerhub-<service>.service`` as
    the user ``makerhub``: allowed; another verb, unit or user is left to polkit's default
    (an administrator's password)."""
    manage = "org.freedesktop.systemd1.manage-units"
    for service in ("firmware", "desktops", "recorder"):
        assert polkit_answer(manage, "makerhub", "restart", f"makerhub-{service}.service") == "yes"
    assert polkit_answer(manage, "makerhub", "stop", "makerhub-firmware.service") == "not_handled"
    assert polkit_answer(manage, "makerhub", "restart", "ssh.service") == "not_handled"
    assert polkit_answer(manage, "makerhub", "restart", "makerhub-homeassistant.service") == (
        "not_handled"
    )
    assert polkit_answer(manage, "nobody", "restart", "makerhub-firmware.service") == (
        "not_handled"
    )
    assert polkit_answer("org.freedesktop.login1.reboot", "makerhub", "", "") == "not_handled"
    # The units the rule names are the ones deploy/systemd ships (and the recorder's name).
    shipped = {path.stem for path in (DEPLOY / "systemd").glob("makerhub-*.service")}
    assert shipped - {"makerhub-homeassistant"} == {
        "makerhub-firmware",
        "makerhub-desktops",
        "makerhub-recorder",
    }
