"""Virtual environments with nothing but Home Assistant, as ``pip install homeassistant``
leaves them: where a user installs an integration from HACS.

pip takes a minute or more to build one, so the prepared environment is kept in a cache
folder (``$XDG_CACHE_HOME/makerhub/hass-venvs``, default ``~/.cache``) under a key made of
the Home Assistant version, the Python and Home Assistant's constraints. Each test gets
its own copy to let Home Assistant install packages into; delete the folder to rebuild.
pip runs with the machine's own configuration (index, find-links, cache), as any install.
"""

from __future__ import annotations

from collections.abc import Iterable
import fcntl
import hashlib
import json
import os
from pathlib import Path
import platform
import shutil
import subprocess
import sys

REPO = Path(__file__).resolve().parents[2]
TEST_REQUIREMENTS = REPO / "requirements" / "test.txt"
CONSTRAINTS = REPO / "requirements" / "constraints.txt"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "makerhub" / "hass-venvs"
COMPLETE = ".makerhub-complete"


def home_assistant_requirement() -> str:
    """Return the ``homeassistant==…`` pin of requirements/test.txt (what the tests run)."""
    for line in TEST_REQUIREMENTS.read_text().splitlines():
        if line.startswith("homeassistant=="):
            return line.strip()
    raise RuntimeError(f"no homeassistant== pin in {TEST_REQUIREMENTS}")


def _cache_key(requirement: str) -> str:
    python = f"{platform.python_implementation()}-{platform.python_version()}"
    inputs = [requirement, python, sys.base_prefix, platform.machine(), CONSTRAINTS.read_text()]
    digest = hashlib.sha256(repr(inputs).encode()).hexdigest()[:12]
    return f"{requirement.replace('==', '-')}-{python.lower()}-{digest}"


def prepared_venv() -> Path:
    """Return the cached environment with only Home Assistant, building it if needed.

    Never give it to Home Assistant itself: it installs into the environment it runs in.
    Use :func:`fresh_venv` for a copy.
    """
    requirement = home_assistant_requirement()
    venv = CACHE / _cache_key(requirement)
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f"{venv.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test run may be building it
        if (venv / COMPLETE).exists():
            return venv
        shutil.rmtree(venv, ignore_errors=True)  # what an interrupted build left
        # The base interpreter (not this one's venv): a plain environment of that Python.
        _run([sys.executable, "-m", "venv", str(venv)])
        _run(
            [
                str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                "--disable-pip-version-check", requirement, "--constraint", str(CONSTRAINTS),
            ]
        )  # fmt: skip
        (venv / COMPLETE).write_text(requirement + "\n")
    return venv


def fresh_venv(destination: Path) -> Path:
    """Copy the prepared environment to ``destination``; return its ``python``.

    Files are hard links when both are on one filesystem (a second or so instead of
    copying 600 MB): pip, uv and Python's bytecode writes replace files rather than
    write into them, so installing into the copy leaves the cache as it was.
    """
    source = prepared_venv()
    try:
        shutil.copytree(source, destination, symlinks=True, copy_function=os.link)
    except OSError:  # another filesystem (a tmpfs /tmp): a real copy
        shutil.rmtree(destination, ignore_errors=True)
        shutil.copytree(source, destination, symlinks=True)
    return destination / "bin" / "python"


def installed_versions(python: Path, distributions: Iterable[str]) -> dict[str, str | None]:
    """Return the version of each distribution installed for ``python`` (None if absent)."""
    script = (
        "import importlib.metadata as m, json, sys\n"
        "def version(name):\n"
        "    try:\n"
        "        return m.version(name)\n"
        "    except m.PackageNotFoundError:\n"
        "        return None\n"
        "print(json.dumps({name: version(name) for name in sys.argv[1:]}))\n"
    )
    output = _run([str(python), "-c", script, *distributions])
    result: dict[str, str | None] = json.loads(output)
    return result


def _run(command: list[str]) -> str:
    """Run a command; return its output, or raise with what it printed."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
        )
    return result.stdout
