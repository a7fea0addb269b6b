"""The integration's import rules, read from the source with ``ast``.

The core stays free of Home Assistant and of the glue around it (it is tested, and reused,
on its own), and no two modules of the integration import each other, directly or round
a circle, counting the imports under ``TYPE_CHECKING`` too (they keep circles alive).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import custom_components.makerhub as makerhub
import custom_components.makerhub.core as core

PACKAGE = makerhub.__name__
ROOT = Path(makerhub.__file__).parent


def _module_name(path: Path) -> str:
    """Return the dotted name of an integration module (a package: its own name)."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


MODULES = {_module_name(path): path for path in ROOT.rglob("*.py")}


def _imported(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """Yield every module name ``module`` imports (absolute, relative, and under
    ``TYPE_CHECKING``), with the line; ``from X import name`` names ``X.name`` when that
    is a module."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                yield (submodule if submodule in MODULES else source), node.lineno


def import_graph() -> dict[str, set[str]]:
    """Return, per integration module, the integration modules it imports."""
    return {
        module: {name for name, _ in _imported(module, path) if name in MODULES}
        for module, path in MODULES.items()
    }


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the circles of ``graph``: its strongly connected components of more than
    one module, and modules importing themselves (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_import_cycles_found() -> None:
    """The cycle finder names a circle, a self-import, and nothing in a tree."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}, "e": {"a"}, "f": set()}
    assert import_cycles(graph) == [["a", "b", "c"], ["d"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


def test_relative_and_type_checking_imports_counted(tmp_path: Path) -> None:
    """Every form of import is read: relative ones at any depth, ``from . import x``, and
    those of ``TYPE_CHECKING`` blocks; ``from X import name`` names ``X`` unless ``name``
    is a module."""
    path = tmp_path / "probe.py"
    path.write_text(
        "from typing import TYPE_CHECKING\n"
        "import homeassistant.core\n"
        "from . import runtime\n"
        "from .core.protocol import command\n"
        "from .core import schema\n"
        "if TYPE_CHECKING:\n"
        "    from .hub import MakerhubHub\n"
    )
    imported = {name for name, _ in _imported(f"{PACKAGE}.core.probe", path)}
    assert imported == {  # from inside core/: a sibling that is no module names core
        "typing",
        "homeassistant.core",
        f"{PACKAGE}.core",
        f"{PACKAGE}.core.core.protocol",
        f"{PACKAGE}.core.core",
        f"{PACKAGE}.core.hub",
    }
    imported = {name for name, _ in _imported(f"{PACKAGE}.probe", path)}
    assert imported == {
        "typing",
        "homeassistant.core",
        f"{PACKAGE}.runtime",
        f"{PACKAGE}.core.protocol",
        f"{PACKAGE}.core.schema",
        f"{PACKAGE}.hub",
    }
    deep = tmp_path / "deep.py"
    deep.write_text("from ..const import DOMAIN\nfrom .. import runtime\n")
    assert {name for name, _ in _imported(f"{PACKAGE}.core.presence.deep", deep)} == {
        f"{PACKAGE}.core.const",
        f"{PACKAGE}.core",
    }
    assert {name for name, _ in _imported(f"{PACKAGE}.core.deep", deep)} == {
        f"{PACKAGE}.const",
        f"{PACKAGE}.runtime",
    }


def test_no_import_cycles() -> None:
    """No module of the integration imports itself round a circle."""
    assert import_cycles(import_graph()) == []


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith(core.__name__)))
def test_core_imports_only_core(module: str) -> None:
    """A core module imports neither homeassistant nor the glue outside ``core/``."""
    offenders = [
        f"line {line}: {name}"
        for name, line in _imported(module, MODULES[module])
        if name.split(".")[0] == "homeassistant"
        or (name.startswith(f"{PACKAGE}.") and not name.startswith(core.__name__))
    ]
    assert offenders == []
