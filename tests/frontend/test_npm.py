"""The frontend (``frontend/``): its type check and vitest unit tests pass, and the module
the integration ships is the build of the sources as they are (a HACS user gets no build
step, so the built file is committed)."""

from __future__ import annotations

import json
import os
from pathlib import Path
import shlex
import subprocess

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
SHIPPED = (
    FRONTEND.parent / "custom_components" / "makerhub" / "dashboards" / "frontend" / "makerhub.js"
)
ENV = {**os.environ, "CI": "true", "NO_COLOR": "1", "FORCE_COLOR": "0"}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    assert (FRONTEND / "node_modules").is_dir(), (
        "frontend/node_modules is missing: scripts/lib/bootstrap.sh runs npm ci"
    )
    return subprocess.run(
        args, cwd=FRONTEND, env=ENV, capture_output=True, text=True, timeout=300, check=False
    )


def test_npm_test_passes() -> None:
    """``npm test``: tsc --noEmit, then vitest (layout, filters, hit-testing, transform
    editing, the strategy's views, the Me card's logic)."""
    result = _run("npm", "test")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert " passed" in output
    assert " failed" not in output


def test_shipped_module_is_built_from_the_sources(tmp_path: Path) -> None:
    """The committed ``makerhub.js`` is byte for byte what ``npm run build`` makes now."""
    script = json.loads((FRONTEND / "package.json").read_text())["scripts"]["build"]
    args = shlex.split(script)
    assert args[0] == "esbuild"
    built = tmp_path / "makerhub.js"
    args = [a if not a.startswith("--outfile=") else f"--outfile={built}" for a in args]
    result = _run(str(FRONTEND / "node_modules" / ".bin" / "esbuild"), *args[1:])
    assert result.returncode == 0, result.stderr
    assert built.read_bytes() == SHIPPED.read_bytes(), (
        "custom_components/makerhub/dashboards/frontend/makerhub.js is out of date: "
        "run `npm run build` in frontend/ and commit it"
    )
