"""The repository, the SDK and the add-ons declare the same licence: MIT, in LICENSE."""

from __future__ import annotations

from pathlib import Path
import tomllib

ROOT = Path(__file__).resolve().parents[2]


def test_license_file_is_mit() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n\nCopyright (c) 2025-2026 The Makerhub authors\n")
    assert "Permission is hereby granted, free of charge" in text


def test_sdk_ships_the_same_license() -> None:
    """A wheel carries only files under its own folder, so the SDK keeps a copy."""
    assert (ROOT / "sdk" / "python" / "LICENSE").read_bytes() == (ROOT / "LICENSE").read_bytes()


def test_pyprojects_declare_mit() -> None:
    for pyproject in (ROOT / "pyproject.toml", ROOT / "sdk" / "python" / "pyproject.toml"):
        project = tomllib.loads(pyproject.read_text())["project"]
        assert project["license"] == "MIT", pyproject
        assert project["license-files"] == ["LICENSE"], pyproject
        assert (pyproject.parent / "LICENSE").is_file()


def test_addon_images_declare_mit() -> None:
    """Each add-on's image says MIT in its Dockerfile's labels (the add-on linter
    refuses labels in build.yaml)."""
    dockerfiles = sorted((ROOT / "addons").glob("*/Dockerfile"))
    assert dockerfiles
    for dockerfile in dockerfiles:
        text = dockerfile.read_text().replace("\\\n", " ")
        assert 'org.opencontainers.image.licenses="MIT"' in text, dockerfile
