"""Home Assistant's own ``check_config`` script, run as a real ``hass`` process, on a
configuration directory with one automation from each blueprint."""

from __future__ import annotations

from pathlib import Path
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from .conftest import AUTOMATION_BLUEPRINTS, BLUEPRINTS
from .examples import EXAMPLE_INPUTS

pytestmark = pytest.mark.e2e

ANSI = re.compile(r"\x1b\[[0-9;]*m")

CONFIGURATION = """\
homeassistant:
  name: Blueprint check
  latitude: 52.37
  longitude: 4.89
  elevation: 0
  unit_system: metric
  time_zone: UTC
automation: !include automations.yaml
"""


def config_dir(root: Path, automations: list[dict[str, object]]) -> Path:
    """Write a configuration directory with the repository's blueprints and these
    automations."""
    root.mkdir()
    (root / "configuration.yaml").write_text(CONFIGURATION)
    (root / "automations.yaml").write_text(yaml.safe_dump(automations, allow_unicode=True))
    shutil.copytree(BLUEPRINTS, root / "blueprints")
    return root


def check_config(config: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m homeassistant --script check_config -c CONFIG --info automation``
    (which prints the automations as validated)."""
    command = [sys.executable, "-m", "homeassistant", "--script", "check_config"]
    return subprocess.run(
        [*command, "-c", str(config), "--info", "automation"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_check_config_accepts_an_automation_from_every_blueprint(tmp_path: Path) -> None:
    automations = [
        {
            "id": f"example_{index}",
            "alias": f"Example {path.stem}",
            "use_blueprint": {"path": f"makerhub/{path.name}", "input": EXAMPLE_INPUTS[path.name]},
        }
        for index, path in enumerate(AUTOMATION_BLUEPRINTS)
    ]
    result = check_config(config_dir(tmp_path / "config", automations))
    output = ANSI.sub("", result.stdout)
    assert result.returncode == 0, output + result.stderr
    assert "Failed config" not in output
    # check_config exits 0 on a broken automation and logs the error: none may be logged.
    assert "ERROR" not in output, output
    assert "Successful config (partial)" in output
    for path in AUTOMATION_BLUEPRINTS:
        # The validated automation's actions, with the blueprint's lines as their source.
        assert f"automation/makerhub/{path.name}:" in output, output


def test_check_config_names_an_automation_with_a_missing_input(tmp_path: Path) -> None:
    """The same check logs the error, naming the input, when an automation leaves out a
    required input: the run above would have seen a broken blueprint (``check_config``
    still exits 0 for a broken automation, hence the test on the log)."""
    inputs = dict(EXAMPLE_INPUTS["makerhub_threshold_alert.yaml"])
    del inputs["limit"]
    automations = [
        {
            "id": "broken",
            "alias": "Broken",
            "use_blueprint": {"path": "makerhub/makerhub_threshold_alert.yaml", "input": inputs},
        }
    ]
    result = check_config(config_dir(tmp_path / "config", automations))
    output = ANSI.sub("", result.stdout)
    assert (
        "ERROR:homeassistant.components.automation:Failed to generate automation from "
        "blueprint: Missing input limit"
    ) in output
