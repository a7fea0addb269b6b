"""Manifest, HACS metadata, translations and quality scale are complete and consistent."""

from __future__ import annotations

import ast
import json
from pathlib import Path
import re
import sys

from homeassistant.const import Platform
import yaml

ROOT = Path(__file__).resolve().parents[3]
INTEGRATION = ROOT / "custom_components" / "makerhub"
sys.path.insert(0, str(ROOT / "scripts" / "lib"))

import translations  # noqa: E402


def test_manifest() -> None:
    """The manifest has what HACS and hassfest want, keys in hassfest's order."""
    manifest = json.loads((INTEGRATION / "manifest.json").read_text())
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert manifest["domain"] == "makerhub"
    assert manifest["dependencies"] == ["http", "mqtt", "websocket_api"]
    assert manifest["after_dependencies"] == [
        "bluetooth",
        "frontend",
        "hassio",
        "media_source",
        "panel_custom",
        "person",
        "stream",
    ]
    assert manifest["iot_class"] == "local_push"
    assert manifest["mqtt"] == ["makerhub/announce/#"]
    assert manifest["config_flow"] is True
    for key in ("version", "issue_tracker", "codeowners", "documentation"):
        assert manifest[key]
    hacs = json.loads((ROOT / "hacs.json").read_text())
    assert hacs["homeassistant"] == "2025.4.0"


def test_translations_up_to_date() -> None:
    """translations/en.json is strings.json with references resolved (scripts/translations)."""
    assert (INTEGRATION / "translations" / "en.json").read_text() == translations.rendered()


def test_flow_strings_exist() -> None:
    """Every abort reason and error the flows use has a text."""
    strings = json.loads((INTEGRATION / "strings.json").read_text())
    flows = [
        INTEGRATION / "config_flow.py",
        *INTEGRATION.glob("*/flow.py"),
        *INTEGRATION.glob("*/options.py"),
    ]
    source = "\n".join(path.read_text() for path in flows)
    reasons = set(re.findall(r'reason="([a-z_]+)"', source))
    errors = set(re.findall(r'\] = "([a-z_]+)"', source)) | {"mqtt_not_connected"}
    known = (
        set(strings["config"]["abort"])
        | set(strings["config"]["error"])
        | {key for sub in strings["config_subentries"].values() for key in sub["abort"]}
        | {key for sub in strings["config_subentries"].values() for key in sub["error"]}
        | set(strings["options"]["error"])
        | set(strings["options"]["abort"])
    )
    assert reasons | errors <= known, (reasons | errors) - known


def test_translation_keys_exist() -> None:
    """Every entity translation key and exception key used in code has a text."""
    strings = json.loads((INTEGRATION / "strings.json").read_text())
    code = "\n".join(path.read_text() for path in INTEGRATION.glob("*.py"))
    used = set(re.findall(r'translation_key="([a-z_]+)"', code))
    known = (
        {key for platform in strings["entity"].values() for key in platform}
        | set(strings["exceptions"])
        | set(strings["issues"])
        | set(strings["selector"])
    )
    assert used <= known, used - known


def test_services_documented() -> None:
    """Every action in services.yaml has a name, a description and texts for its fields."""
    strings = json.loads((INTEGRATION / "strings.json").read_text())
    services = yaml.safe_load((INTEGRATION / "services.yaml").read_text())
    icons = json.loads((INTEGRATION / "icons.json").read_text())
    assert set(services) == set(strings["services"]) == set(icons["services"])
    for name, service in services.items():
        texts = strings["services"][name]
        assert texts["name"]
        assert texts["description"]
        assert set((service or {}).get("fields", {})) == set(texts.get("fields", {})), name


def test_quality_scale_is_complete() -> None:
    """Every rule has a status; exempt and todo rules say why."""
    scale = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text())
    rules = scale["rules"]
    assert len(rules) >= 50
    for name, rule in rules.items():
        status = rule if isinstance(rule, str) else rule["status"]
        assert status in ("done", "exempt", "todo"), name
        if status != "done":
            assert isinstance(rule, dict), f"{name} needs a comment"
            assert rule.get("comment"), f"{name} needs a comment"


# -- quality scale rules checked on the code ----------------------------------------------

PLATFORM_NAMES = {platform.value for platform in Platform}
TRANSLATED_ERRORS = {
    "HomeAssistantError",
    "ServiceValidationError",
    "ConfigEntryNotReady",
    "ConfigEntryError",
    "ConfigEntryAuthFailed",
    "MediaSourceError",
    "Unresolvable",
    "BrowseError",
}
"""Home Assistant's errors a user sees (an action's, a set-up's, the media browser's)."""
NAME_SOURCES = {"_attr_translation_key", "entity_description", "_attr_name", "_attr_device_class"}
"""What gives an entity its name: a translation key (directly or in its description), a
name that is not the code's (a firmware variable's, a user's aggregate's; checked below),
or its device class's translated name."""


def hub_modules() -> dict[Path, ast.Module]:
    """The integration's modules with Home Assistant glue (``core/`` has none)."""
    return {
        path: ast.parse(path.read_text())
        for path in sorted(INTEGRATION.rglob("*.py"))
        if path.relative_to(INTEGRATION).parts[0] != "core"
    }


def _called(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def _assigned(node: ast.AST) -> list[tuple[str, ast.expr | None]]:
    """``(name, value)`` of each ``name = …``, ``self.name = …`` or ``name: T = …``."""
    if isinstance(node, ast.Assign):
        targets, value = node.targets, node.value
    elif isinstance(node, ast.AnnAssign):
        targets, value = [node.target], node.value
    else:
        return []
    return [
        (target.id if isinstance(target, ast.Name) else target.attr, value)
        for target in targets
        if isinstance(target, ast.Name | ast.Attribute)
    ]


def test_every_platform_module_sets_parallel_updates() -> None:
    """Rule parallel-updates: each platform module says how many updates run at once."""
    platforms = [path for path in INTEGRATION.glob("*.py") if path.stem in PLATFORM_NAMES]
    assert {path.stem for path in platforms} >= {"sensor", "camera", "binary_sensor"}
    for path in platforms:
        names = {name for node in ast.parse(path.read_text()).body for name, _ in _assigned(node)}
        assert "PARALLEL_UPDATES" in names, path.name


def test_every_error_a_user_sees_is_translated() -> None:
    """Rule exception-translations: every Home Assistant error the integration makes (an
    action's refusal, a set-up's failure, the media browser's) names its translation."""
    made = 0
    for path, tree in hub_modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _called(node) in TRANSLATED_ERRORS:
                made += 1
                keywords = {keyword.arg for keyword in node.keywords}
                where = f"{path.relative_to(INTEGRATION)}:{node.lineno}"
                assert {"translation_domain", "translation_key"} <= keywords, where
    assert made > 40


def _entity_classes() -> dict[str, tuple[Path, ast.ClassDef]]:
    classes = {}
    for path, tree in hub_modules().items():
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                classes[node.name] = (path, node)
    return classes


def _bases(node: ast.ClassDef) -> list[str]:
    return [
        base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
        for base in (b.value if isinstance(b, ast.Subscript) else b for b in node.bases)
    ]


def test_every_entity_has_a_name_that_is_not_hard_coded() -> None:
    """Rule entity-translations: each entity class of a feature's platform module (or a
    base of it in the integration) gets its name from a translation key, a description,
    its device class, or a name that is not a literal (a firmware variable's, a user's
    aggregate's, None for the device's own name); no English name is written in code."""
    classes = _entity_classes()

    def sources(name: str) -> set[str]:
        if name not in classes:
            return set()
        _, node = classes[name]
        found = {attr for child in ast.walk(node) for attr, _ in _assigned(child)} & NAME_SOURCES
        for base in _bases(node):
            found |= sources(base)
        return found

    def is_entity(name: str) -> bool:
        if name not in classes:
            return name.endswith("Entity")
        return any(is_entity(base) for base in _bases(classes[name][1]))

    checked = set()
    for name, (path, _node) in classes.items():
        relative = path.relative_to(INTEGRATION)
        if len(relative.parts) == 2 and path.stem in PLATFORM_NAMES and is_entity(name):
            checked.add(name)
            assert sources(name), f"{relative}: {name} has no name source"
    assert {"CameraStatusSensor", "RecorderCamera", "HealthProblemSensor"} <= checked
    for path, tree in hub_modules().items():
        for node in ast.walk(tree):
            named = [value for name, value in _assigned(node) if name == "_attr_name"]
            if isinstance(node, ast.Call) and _called(node).endswith("EntityDescription"):
                named += [k.value for k in node.keywords if k.arg == "name"]
            for value in named:
                literal = isinstance(value, ast.Constant) and value.value is not None
                assert not literal, f"{path.relative_to(INTEGRATION)}:{node.lineno}"
