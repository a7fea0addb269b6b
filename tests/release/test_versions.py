"""One version everywhere, and changelogs whose newest release is that version."""

from __future__ import annotations

from pathlib import Path
import re
import sys

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts" / "lib"))

import release  # noqa: E402

CHANGELOGS = [ROOT / "CHANGELOG.md", *sorted((ROOT / "addons").glob("*/CHANGELOG.md"))]
RELEASE_HEADING = re.compile(r"^## \[(?P<version>[^\]]+)\] - (?P<day>\d{4}-\d{2}-\d{2})$")


def test_every_file_holds_the_same_version() -> None:
    """The files scripts/release bumps agree (it refuses to release when they do not)."""
    fields = release.version_fields(ROOT)
    assert {field.path for field in fields} >= {
        "custom_components/makerhub/manifest.json",
        "addons/makerhub_firmware/config.yaml",
        "sdk/python/pyproject.toml",
    }
    release.current_version(ROOT, fields)


@pytest.mark.parametrize("changelog", CHANGELOGS, ids=lambda path: str(path.relative_to(ROOT)))
def test_changelog_shape(changelog: Path) -> None:
    """Keep a Changelog: Unreleased first, then releases newest first, dated, each once."""
    headings = [line for line in changelog.read_text().splitlines() if line.startswith("## ")]
    assert headings[0] == "## [Unreleased]"
    released = [RELEASE_HEADING.fullmatch(line) for line in headings[1:]]
    assert all(released), headings
    versions = [match.group("version") for match in released if match]
    days = [match.group("day") for match in released if match]
    if versions:  # an add-on not released yet has only its Unreleased section
        assert versions[0] == release.current_version(ROOT, release.version_fields(ROOT))
    else:
        assert changelog.parent.parent == ROOT / "addons", "Makerhub's own changelog has releases"
    assert versions == sorted(set(versions), key=release.precedence, reverse=True)
    assert days == sorted(days, reverse=True)


def test_changelog_links_every_release() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    versions = re.findall(r"^## \[([^\]]+)\]", text, re.MULTILINE)
    for version in versions:
        assert re.search(rf"^\[{re.escape(version)}\]: https://", text, re.MULTILINE), version
