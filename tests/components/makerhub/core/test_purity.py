"""The integration's import rules, read from the source with ``ast``.

The core stays free of Home Assistant and of the glue around it (it is tested, and reused,
on its own), and no two modules of the integration import each other, directly or round
a circle, counting the imports under ``TYPE_CHECKING`` too (they keep circles alive).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from homeassistant.const import Platform
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


# -- the feature packages -----------------------------------------------------------------

ENTRY_POINTS = {
    "__init__",
    "config_flow",
    "diagnostics",
    "media_source",
    "services",
    "repairs",
    "system_health",
} | {p.value for p in Platform}
"""Top-level modules Home Assistant calls: they gather what every feature contributes."""
FEATURE_INTERNALS = {p.value for p in Platform} | {
    "api",
    "diagnostics",
    "flow",
    "options",
    "repairs",
    "services",
    "view",
    "views",
}
"""A feature's modules that only its own package and the entry points may import: its
entities per platform, flows, options sections, actions, HTTP views and diagnostics."""
FEATURES = sorted(
    path.parent.name
    for path in ROOT.glob("*/__init__.py")
    if path.parent.name != core.__name__.rpartition(".")[2]
)


def _place(module: str) -> tuple[str, str]:
    """Return (feature, rest) for a feature module, ("", name) for a top-level one,
    ("core", …) for the core."""
    parts = module.removeprefix(f"{PACKAGE}.").split(".") if module != PACKAGE else ["__init__"]
    if len(parts) == 1:
        return "", parts[0]
    return parts[0], ".".join(parts[1:])


def import_rule_breaks(module: str, imports: list[tuple[str, int, list[str]]]) -> list[str]:
    """Return what ``module`` imports against the feature rules.

    A feature module, and a shared top-level module (runtime, entity, devices, const,
    secrets, …), imports the core, the shared modules, its own feature and another
    feature's public API: not that feature's internals (:data:`FEATURE_INTERNALS`), nor
    names starting with ``_``; and never an entry point. Entry points import anything.
    """
    feature, rest = _place(module)
    if feature == "core" or (not feature and rest in ENTRY_POINTS):
        return []
    breaks = []
    for name, line, names in imports:
        if not name.startswith(f"{PACKAGE}.") and name != PACKAGE:
            continue
        other, other_rest = _place(name)
        if not other:
            if other_rest in ENTRY_POINTS:
                breaks.append(f"line {line}: {name} is an entry point")
            continue
        if other in ("core", feature):
            continue
        if other_rest.split(".")[-1] in FEATURE_INTERNALS:
            breaks.append(f"line {line}: {name} is internal to {other}")
        if private := [n for n in names if n.startswith("_")]:
            breaks.append(f"line {line}: {', '.join(private)} private to {name}")
    return breaks


def _imports_with_names(module: str, path: Path) -> list[tuple[str, int, list[str]]]:
    """Return (module, line, names imported from it) for every import of ``module``."""
    names_at: dict[int, list[str]] = {}
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            names_at.setdefault(node.lineno, []).extend(alias.name for alias in node.names)
    return [(name, line, names_at.get(line, [])) for name, line in _imported(module, path)]


def test_features_found() -> None:
    """The rule below sees the feature packages (an empty list would pass anything)."""
    assert {"units", "links", "broker_access", "firmware", "telemetry", "presence"} <= set(FEATURES)
    assert "projects" in FEATURES


@pytest.mark.parametrize(
    ("module", "imports", "breaks"),
    [
        (f"{PACKAGE}.presence.sensor", [(f"{PACKAGE}.units.hub", 3, ["MakerhubHub"])], []),
        (f"{PACKAGE}.presence.sensor", [(f"{PACKAGE}.core.schema", 3, ["Variable"])], []),
        (f"{PACKAGE}.presence.sensor", [(f"{PACKAGE}.runtime", 3, ["loaded_runtime"])], []),
        (
            f"{PACKAGE}.presence.sensor",
            [(f"{PACKAGE}.units.sensor", 4, ["build_sensors"])],
            [f"line 4: {PACKAGE}.units.sensor is internal to units"],
        ),
        (
            f"{PACKAGE}.firmware.manager",
            [(f"{PACKAGE}.units.hub", 5, ["_same_value"])],
            [f"line 5: _same_value private to {PACKAGE}.units.hub"],
        ),
        (
            f"{PACKAGE}.runtime",
            [(f"{PACKAGE}.config_flow", 6, ["MakerhubConfigFlow"])],
            [f"line 6: {PACKAGE}.config_flow is an entry point"],
        ),
        (f"{PACKAGE}.sensor", [(f"{PACKAGE}.units.sensor", 7, ["x"])], []),
        (f"{PACKAGE}.units.sensor", [(f"{PACKAGE}.units.hub", 7, ["_x"])], []),
    ],
)
def test_import_rule(
    module: str, imports: list[tuple[str, int, list[str]]], breaks: list[str]
) -> None:
    """What the feature rule allows and refuses, on made-up imports."""
    assert import_rule_breaks(module, imports) == breaks


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not m.startswith(core.__name__)))
def test_features_import_only_public_parts(module: str) -> None:
    """Every module of the integration keeps the feature import rule."""
    assert import_rule_breaks(module, _imports_with_names(module, MODULES[module])) == []
