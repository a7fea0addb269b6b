"""The add-on's vendored core modules are byte-identical to the integration's."""

from __future__ import annotations

from pathlib import Path
import subprocess

import pytest

from custom_components.makerhub.core import (
    errors as core_errors,
    schema as core_schema,
    secret_box as core_secret_box,
)
from makerhub_firmware.vendor import (
    errors as vendored_errors,
    schema as vendored_schema,
    secret_box as vendored_secret_box,
)

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("original", "copy"),
    [
        (core_schema, vendored_schema),
        (core_errors, vendored_errors),
        (core_secret_box, vendored_secret_box),
    ],
    ids=["schema", "errors", "secret_box"],
)
def test_vendored_copy_is_identical(original: object, copy: object) -> None:
    source = Path(str(getattr(original, "__file__", "")))
    vendored = Path(str(getattr(copy, "__file__", "")))
    assert vendored.parent == ROOT / "addons/makerhub_firmware/makerhub_firmware/vendor"
    assert vendored.read_bytes() == source.read_bytes(), (
        f"{vendored} differs from {source}: run scripts/sync-vendored"
    )


def test_sync_script_detects_a_stale_copy(tmp_path: Path) -> None:
    """``scripts/sync-vendored --check`` fails on a changed copy and sync repairs it."""
    work = tmp_path / "repo"
    for relative in (
        "scripts/sync-vendored",
        "custom_components/makerhub/core/errors.py",
        "custom_components/makerhub/core/schema.py",
        "custom_components/makerhub/core/secret_box.py",
        "addons/makerhub_firmware/makerhub_firmware/vendor/errors.py",
        "addons/makerhub_firmware/makerhub_firmware/vendor/schema.py",
        "addons/makerhub_firmware/makerhub_firmware/vendor/secret_box.py",
        "addons/makerhub_recorder/makerhub_recorder/vendor/secret_box.py",
    ):
        target = work / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((ROOT / relative).read_bytes())
        target.chmod((ROOT / relative).stat().st_mode)
    script = work / "scripts/sync-vendored"
    assert subprocess.run([script, "--check"], check=False).returncode == 0
    stale = work / "addons/makerhub_firmware/makerhub_firmware/vendor/schema.py"
    stale.write_text(stale.read_text() + "\n# drift\n")
    check = subprocess.run([script, "--check"], capture_output=True, text=True, check=False)
    assert check.returncode == 1
    assert "vendor/schema.py" in check.stderr
    assert subprocess.run([script], capture_output=True, check=False).returncode == 0
    assert stale.read_bytes() == (ROOT / "custom_components/makerhub/core/schema.py").read_bytes()
