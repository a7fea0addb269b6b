"""The launcher's rules without a broker: rollback only from a pending update, never back
and forth; a crash loop restarts with backoff; how a version's program is found."""

from __future__ import annotations

from collections.abc import Iterator
import json
import os
from pathlib import Path
import subprocess
import sys
import threading
import time

import pytest

from makerhub_unit.launcher import Launcher
from makerhub_unit.updater import (
    ENV_ROOT,
    ENV_RUN_VERSION,
    PendingUpdate,
    UpdateError,
    UpdateManager,
    entry_command,
)

from .archives import hub_archive

SDK = Path(__file__).parents[2] / "sdk" / "python"
COUNTING = """\
import os, pathlib, sys
log = pathlib.Path(os.environ["MH_ROOT"]) / "runs.log"
with log.open("a") as file:
    file.write(os.environ["MH_RUN_VERSION"] + "\\n")
sys.exit({code})
"""


def install(manager: UpdateManager, tmp: Path, version: str, files: dict[str, str]) -> None:
    manager.install(hub_archive(tmp / f"{version}.tar.gz", files), version)


def runs(root: Path) -> list[str]:
    path = root / "runs.log"
    return path.read_text().split() if path.exists() else []


@pytest.fixture
def manager(tmp_path: Path) -> UpdateManager:
    return UpdateManager(tmp_path / "root")


@pytest.fixture
def quick() -> Iterator[list[Launcher]]:
    """Launchers with short delays, stopped at the end of the test."""
    made: list[Launcher] = []
    yield made
    for launcher in made:
        launcher.stop()


def run_in_thread(launcher: Launcher) -> tuple[threading.Thread, list[int]]:
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(launcher.run()), daemon=True)
    thread.start()
    return thread, result


def make(manager: UpdateManager, quick: list[Launcher], **options: float) -> Launcher:
    launcher = Launcher(
        manager.root,
        window=options.get("window", 5.0),
        backoff_initial=0.05,
        backoff_max=0.1,
        term_grace=2.0,
    )
    quick.append(launcher)
    return launcher


def test_old_version_crash_loop_never_flips_back(
    manager: UpdateManager, tmp_path: Path, quick: list[Launcher]
) -> None:
    install(manager, tmp_path, "v1", {"main.py": COUNTING.format(code=3)})
    install(manager, tmp_path, "v2", {"main.py": COUNTING.format(code=4)})
    with manager.locked() as state:
        state.pending = PendingUpdate("v2", "v1", time.time())
    launcher = make(manager, quick)
    thread, _ = run_in_thread(launcher)
    deadline = time.monotonic() + 10
    while len(runs(manager.root)) < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    launcher.stop()
    thread.join(10)
    assert not thread.is_alive()
    started = runs(manager.root)
    assert started[0] == "v2"
    assert set(started[1:]) == {"v1"}
    assert len(started) >= 6
    assert launcher.rollbacks == 1
    assert manager.current_version() == "v1"
    state = manager.state()
    assert state.pending is None
    assert state.previous is None
    assert state.rollback is not None
    assert state.rollback.error == "exited with code 4"
    assert not manager.version_dir("v2").exists()


def test_pending_across_too_many_boots_rolls_back(
    manager: UpdateManager, tmp_path: Path, quick: list[Launcher]
) -> None:
    install(manager, tmp_path, "v1", {"main.py": COUNTING.format(code=0)})
    install(manager, tmp_path, "v2", {"main.py": COUNTING.format(code=0)})
    with manager.locked() as state:
        state.pending = PendingUpdate("v2", "v1", time.time(), boots=3)
    assert make(manager, quick).run() == 0  # v1 exits 0: the launcher ends too
    assert runs(manager.root) == ["v1"]
    rollback = manager.state().rollback
    assert rollback is not None
    assert rollback.error == "not confirmed after 3 starts of the launcher"


def test_stale_pending_is_dropped_and_exit_zero_ends(
    manager: UpdateManager, tmp_path: Path, quick: list[Launcher]
) -> None:
    install(manager, tmp_path, "v1", {"main.py": COUNTING.format(code=0)})
    with manager.locked() as state:  # recorded, but the switch never happened
        state.pending = PendingUpdate("v9", "v1", time.time())
    assert make(manager, quick).run() == 0
    assert runs(manager.root) == ["v1"]
    assert manager.state().pending is None
    assert manager.state().rollback is None


def test_pending_that_exits_zero_without_confirming_rolls_back(
    manager: UpdateManager, tmp_path: Path, quick: list[Launcher]
) -> None:
    install(manager, tmp_path, "v1", {"main.py": COUNTING.format(code=0)})
    install(manager, tmp_path, "v2", {"main.py": COUNTING.format(code=0)})
    with manager.locked() as state:
        state.pending = PendingUpdate("v2", "v1", time.time())
    assert make(manager, quick).run() == 0
    assert runs(manager.root) == ["v2", "v1"]
    rollback = manager.state().rollback
    assert rollback is not None
    assert (rollback.version, rollback.error) == ("v2", "exited with code 0")


def test_confirmed_version_is_never_rolled_back(
    manager: UpdateManager, tmp_path: Path, quick: list[Launcher]
) -> None:
    install(manager, tmp_path, "v1", {"main.py": COUNTING.format(code=0)})
    install(manager, tmp_path, "v2", {"main.py": COUNTING.format(code=0)})
    with manager.locked() as state:
        state.pending = PendingUpdate("v2", "v1", time.time())
    assert manager.confirm("v2")
    assert not manager.confirm("v2")
    assert make(manager, quick).run() == 0
    assert runs(manager.root) == ["v2"]
    assert manager.state().rollback is None
    assert manager.state().previous == "v1"


def test_run_command_from_makerhub_json(
    manager: UpdateManager, tmp_path: Path, quick: list[Launcher]
) -> None:
    program = (
        "import os, pathlib, sys\n"
        "pathlib.Path(os.environ['MH_ROOT'], 'ran').write_text("
        "' '.join([os.getcwd(), os.environ['MH_RUN_VERSION'], *sys.argv[1:]]))\n"
    )
    files = {
        "makerhub.json": json.dumps({"name": "x", "run": ["python", "app/start.py", "--fast"]}),
        "app/start.py": program,
    }
    install(manager, tmp_path, "v1", files)
    assert make(manager, quick).run() == 0
    cwd, version, flag = (manager.root / "ran").read_text().split()
    assert Path(cwd) == manager.version_dir("v1").resolve()
    assert (version, flag) == ("v1", "--fast")


def test_entry_command(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("")
    assert entry_command(tmp_path, "/py") == ["/py", "main.py"]
    (tmp_path / "makerhub.json").write_text(json.dumps({"run": "./firmware --port 1"}))
    assert entry_command(tmp_path, "/py") == ["./firmware", "--port", "1"]
    (tmp_path / "makerhub.json").write_text(json.dumps({"run": 3}))
    with pytest.raises(UpdateError, match='"run" must be a string or a list of strings'):
        entry_command(tmp_path)
    (tmp_path / "makerhub.json").write_text("{")
    with pytest.raises(UpdateError, match=r"makerhub\.json: not valid JSON"):
        entry_command(tmp_path)


def test_one_launcher_per_root(
    manager: UpdateManager, tmp_path: Path, quick: list[Launcher]
) -> None:
    install(manager, tmp_path, "v1", {"main.py": "import time\ntime.sleep(30)\n"})
    first = make(manager, quick)
    thread, _ = run_in_thread(first)
    deadline = time.monotonic() + 5
    while first.starts == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert make(manager, quick).run() == 2
    first.stop()
    thread.join(5)
    assert not thread.is_alive()


def test_cli_install_and_status(tmp_path: Path) -> None:
    archive = hub_archive(
        tmp_path / "fw.zip", {"main.py": "pass\n"}, env={"MH_VERSION": "1.4.0"}, fmt="zip"
    )
    root = tmp_path / "root"
    command = [sys.executable, "-m", "makerhub_unit.launcher", str(root)]
    env = {
        key: value for key, value in os.environ.items() if key not in (ENV_ROOT, ENV_RUN_VERSION)
    }
    env["PYTHONPATH"] = str(SDK)
    done = subprocess.run(
        [*command, "--install", str(archive)], env=env, capture_output=True, text=True, check=True
    )
    assert "installed 1.4.0" in done.stdout
    status = subprocess.run(
        [*command, "--status"], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(status.stdout)["current"] == "1.4.0"
    assert (root / "current").readlink() == Path("versions/1.4.0")
