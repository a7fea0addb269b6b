"""Manifest, HACS metadata, translations and quality scale are complete and consistent."""

from __future__ import annotations

import json
from pathlib import Path
import re
import sys

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
