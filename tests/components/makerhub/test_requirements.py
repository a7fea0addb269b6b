"""Every package the integration imports is installed for users: manifest requirements.

Home Assistant installs a custom integration's ``requirements`` (and those of the
integrations it depends on) before it imports it; anything else it imports must come with
Home Assistant itself. A package that is only in this repository's test environment would
make the integration fail to load for everyone who installs it with HACS.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from importlib.metadata import packages_distributions, requires, version
import json
from pathlib import Path
import sys

import homeassistant.components
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[3]
INTEGRATION = ROOT / "custom_components" / "makerhub"
MANIFEST = json.loads((INTEGRATION / "manifest.json").read_text())
HA_COMPONENTS = Path(homeassistant.components.__file__).parent
FIRST_PARTY = {"custom_components", "homeassistant"}


def third_party_imports() -> dict[str, set[str]]:
    """Return each third-party top-level module the integration imports, with its files.

    Every import counts, wherever it is (lazy imports in functions too): all of them must
    be importable when their code runs.
    """
    found: defaultdict[str, set[str]] = defaultdict(set)
    for path in sorted(INTEGRATION.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.partition(".")[0]
                if top not in sys.stdlib_module_names and top not in FIRST_PARTY:
                    found[top].add(str(path.relative_to(ROOT)))
    return found


def manifest_requirements() -> dict[str, Requirement]:
    """Return the manifest's requirements by canonical distribution name."""
    parsed = (Requirement(line) for line in MANIFEST["requirements"])
    return {canonicalize_name(requirement.name): requirement for requirement in parsed}


def home_assistant_provides() -> dict[str, str]:
    """Return the distributions Home Assistant installs itself, each with where from.

    Its core requirements (``pip install homeassistant``), and the requirements of every
    integration the manifest depends on, recursively: Home Assistant installs those of
    ``dependencies`` and ``after_dependencies`` before it imports the integration.
    """
    provided = {
        canonicalize_name(Requirement(line).name): "Home Assistant core"
        for line in requires("homeassistant") or []
    }
    pending = [*MANIFEST["dependencies"], *MANIFEST["after_dependencies"]]
    seen: set[str] = set()
    while pending:
        domain = pending.pop()
        if domain in seen:
            continue
        seen.add(domain)
        manifest = json.loads((HA_COMPONENTS / domain / "manifest.json").read_text())
        for line in manifest.get("requirements", []):
            name = canonicalize_name(Requirement(line).name)
            provided.setdefault(name, f"the {domain} integration")
        pending += manifest.get("dependencies", []) + manifest.get("after_dependencies", [])
    return provided


def test_the_scan_finds_imports() -> None:
    """The scan sees the integration's imports (so the checks below are not vacuous)."""
    found = third_party_imports()
    assert "asyncpg" in found
    assert "custom_components/makerhub/core/telemetry/dsn.py" in found["asyncpg"]
    assert not FIRST_PARTY & set(found)


def test_every_third_party_import_is_installed_for_users() -> None:
    """Each imported package is a manifest requirement or comes with Home Assistant."""
    distributions = packages_distributions()
    declared = manifest_requirements()
    provided = home_assistant_provides()
    missing = []
    for module, files in sorted(third_party_imports().items()):
        names = {canonicalize_name(name) for name in distributions.get(module, [])}
        if not names:
            missing.append(f"{module} (imported by {sorted(files)}) is not installed here")
        elif not names & (declared.keys() | provided.keys()):
            missing.append(
                f"{module} (distribution {sorted(names)}, imported by {sorted(files)}) is "
                "neither a manifest requirement nor installed by Home Assistant"
            )
    assert not missing, "\n".join(missing)


def test_requirements_are_needed_and_not_home_assistants() -> None:
    """Every requirement is imported, and none is one Home Assistant already pins.

    Pinning a package Home Assistant installs would break the integration the day Home
    Assistant moves to another version of it (its installs use its constraints).
    """
    distributions = packages_distributions()
    imported = {
        canonicalize_name(name)
        for module in third_party_imports()
        for name in distributions.get(module, [])
    }
    provided = home_assistant_provides()
    for name in manifest_requirements():
        assert name in imported, f"{name} is a requirement but nothing imports it"
        assert name not in provided, f"{name} already comes with {provided[name]}"


def test_requirements_are_pinned_as_tested() -> None:
    """Each requirement is pinned with ``==`` (as Home Assistant's integrations do), to the
    version requirements/test.txt installs and the tests run against."""
    test_pins = {
        canonicalize_name(requirement.name): requirement
        for line in (ROOT / "requirements" / "test.txt").read_text().splitlines()
        if line.strip() and not line.startswith(("#", "-"))
        for requirement in [Requirement(line)]
    }
    # Home Assistant installs requirements under its own package constraints.
    constraints = {
        canonicalize_name(requirement.name): requirement
        for line in (ROOT / "requirements" / "constraints.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
        for requirement in [Requirement(line)]
    }
    requirements = manifest_requirements()
    assert requirements, "the manifest declares no requirements (asyncpg is one)"
    for name, requirement in requirements.items():
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", requirement
        assert not requirement.extras, requirement
        assert requirement.marker is None, requirement
        assert str(test_pins.get(name)) == str(requirement), (
            f"requirements/test.txt must pin {requirement}"
        )
        assert version(requirement.name) == specifier.version, f"{name} installed here"
        if name in constraints:
            assert constraints[name].specifier.contains(specifier.version), constraints[name]
