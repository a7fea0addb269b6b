"""The repository passes HACS' checks for an integration that can be read from the tree.

The schemas are HACS' own (custom_components/hacs/utils/validate.py): hacs.json allows only
its known keys; the manifest needs the keys HACS reads, with a version AwesomeVersion parses.
"""

from __future__ import annotations

import json
from pathlib import Path

from awesomeversion import AwesomeVersion
import voluptuous as vol

ROOT = Path(__file__).resolve().parents[2]

HACS_MANIFEST_JSON_SCHEMA = vol.Schema(
    {
        vol.Optional("content_in_root"): bool,
        vol.Optional("country"): vol.Any(str, [str]),
        vol.Optional("filename"): str,
        vol.Optional("hacs"): str,
        vol.Optional("hide_default_branch"): bool,
        vol.Optional("homeassistant"): str,
        vol.Optional("persistent_directory"): str,
        vol.Optional("render_readme"): bool,
        vol.Optional("zip_release"): bool,
        vol.Required("name"): str,
    },
    extra=vol.PREVENT_EXTRA,
)
INTEGRATION_MANIFEST_JSON_SCHEMA = vol.Schema(
    {
        vol.Required("codeowners"): list,
        vol.Required("documentation"): vol.Match(r"^https://"),
        vol.Required("domain"): str,
        vol.Required("issue_tracker"): vol.Match(r"^https://"),
        vol.Required("name"): str,
        vol.Required("version"): vol.Coerce(AwesomeVersion),
    },
    extra=vol.ALLOW_EXTRA,
)


def test_hacs_json() -> None:
    hacs = HACS_MANIFEST_JSON_SCHEMA(json.loads((ROOT / "hacs.json").read_text()))
    manifest = json.loads((ROOT / "custom_components" / "makerhub" / "manifest.json").read_text())
    assert hacs["name"] == manifest["name"]
    # Releases install from the tag's tree: no zip asset to build.
    assert "zip_release" not in hacs
    assert "filename" not in hacs
    # No info.md: HACS shows the README.
    assert hacs["render_readme"] is True
    assert not (ROOT / "info.md").exists()
    assert AwesomeVersion(hacs["homeassistant"]) >= AwesomeVersion("2025.4.0")


def test_one_integration_with_a_manifest() -> None:
    integrations = [p for p in (ROOT / "custom_components").iterdir() if p.is_dir()]
    integrations = [p for p in integrations if p.name != "__pycache__"]
    assert [p.name for p in integrations] == ["makerhub"]
    manifest = json.loads((integrations[0] / "manifest.json").read_text())
    INTEGRATION_MANIFEST_JSON_SCHEMA(manifest)
    assert manifest["domain"] == integrations[0].name


def test_brand_assets_where_hacs_looks() -> None:
    """HACS' brands check passes when custom_components/<domain>/brand/icon.png exists."""
    assert (ROOT / "custom_components" / "makerhub" / "brand" / "icon.png").is_file()
