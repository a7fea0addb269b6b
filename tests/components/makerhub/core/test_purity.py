"""The core stays free of Home Assistant: it is tested, and reused, on its own."""

from __future__ import annotations

import ast
from pathlib import Path

import custom_components.makerhub.core as core


def test_core_never_imports_homeassistant() -> None:
    """No module of the core imports homeassistant (directly or from a submodule)."""
    offenders = []
    for path in Path(core.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "homeassistant"]
    assert offenders == []
