"""scripts/release against a throwaway copy of this repository, with real git."""

from __future__ import annotations

from itertools import pairwise
import json
import os
from pathlib import Path
import shutil
import subprocess
import sys
import tomllib

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts" / "lib"))

import release  # noqa: E402

GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Release Test",
    "GIT_AUTHOR_EMAIL": "release-test@example.invalid",
    "GIT_COMMITTER_NAME": "Release Test",
    "GIT_COMMITTER_EMAIL": "release-test@example.invalid",
}
CURRENT = release.current_version(ROOT, release.version_fields(ROOT))
DAY = "2026-12-24"
BASE = "https://github.com/makerhub/makerhub"
RELEASED_FILES = {
    "CHANGELOG.md",
    *(
        f"addons/{addon}/{name}"
        for addon in ("makerhub_desktops", "makerhub_firmware", "makerhub_recorder")
        for name in ("CHANGELOG.md", "config.yaml", "openapi.yaml")
    ),
    "custom_components/makerhub/manifest.json",
    "pyproject.toml",
    "sdk/python/makerhub_unit/__init__.py",
    "sdk/python/pyproject.toml",
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env=GIT_ENV
    ).stdout.strip()


def run_release(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the copy's scripts/release from elsewhere, as a maintainer would."""
    return subprocess.run(
        ["bash", str(repo / "scripts" / "release"), *args],
        capture_output=True,
        text=True,
        check=False,
        env=GIT_ENV,
        cwd=repo.parent,
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This working tree's files (committed or not, minus ignored ones) in a new repository."""
    template = tmp_path_factory.mktemp("release") / "template"
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (entry.decode() for entry in listed)):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (template / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, template / name)
    # Known notes, whatever this repository's Unreleased sections hold today.
    set_unreleased(template / "CHANGELOG.md", NOTES)
    set_unreleased(template / "addons/makerhub_firmware/CHANGELOG.md", ADDON_NOTES)
    git(template, "init", "--quiet", "--initial-branch=main")
    git(template, "add", "--all")
    git(template, "commit", "--quiet", "--message", "the repository as it is")
    return template


@pytest.fixture
def repo(template: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "makerhub"
    shutil.copytree(template, copy, symlinks=True)
    return copy


def next_minor(version: str) -> str:
    major, minor, _ = version.partition("-")[0].split(".")
    return f"{major}.{int(minor) + 1}.0"


def versions(repo: Path) -> dict[str, str]:
    """The version each file holds, read as its own format."""
    addon = repo / "addons" / "makerhub_firmware"
    init = (repo / "sdk/python/makerhub_unit/__init__.py").read_text()
    return {
        "manifest": json.loads((repo / "custom_components/makerhub/manifest.json").read_text())[
            "version"
        ],
        "pyproject": tomllib.loads((repo / "pyproject.toml").read_text())["project"]["version"],
        "sdk": tomllib.loads((repo / "sdk/python/pyproject.toml").read_text())["project"][
            "version"
        ],
        "sdk __version__": init.split('__version__ = "')[1].split('"')[0],
        "add-on": yaml.safe_load((addon / "config.yaml").read_text())["version"],
        "add-on API": yaml.safe_load((addon / "openapi.yaml").read_text())["info"]["version"],
    }


NOTES = "### Added\n\n- Something new."
ADDON_NOTES = "### Fixed\n\n- Something mended."


def set_unreleased(changelog: Path, notes: str) -> None:
    """Make ``notes`` the changelog's Unreleased section."""
    text = changelog.read_text()
    start = text.index("## [Unreleased]\n") + len("## [Unreleased]\n")
    end = text.index("\n## [", start)
    changelog.write_text(f"{text[:start]}\n{notes}\n{text[end:]}")


def test_release_bumps_dates_commits_and_tags(repo: Path) -> None:
    version = next_minor(CURRENT)
    head = git(repo, "rev-parse", "HEAD")

    result = run_release(repo, version, "--date", DAY)

    assert result.returncode == 0, result.stderr
    assert f"git push origin HEAD v{version}" in result.stdout
    assert f"gh release create v{version}" in result.stdout
    assert set(versions(repo).values()) == {version}

    changelog = (repo / "CHANGELOG.md").read_text()
    assert f"## [Unreleased]\n\n## [{version}] - {DAY}\n\n{NOTES}\n\n## [{CURRENT}]" in changelog
    assert f"[Unreleased]: {BASE}/compare/v{version}...HEAD\n" in changelog
    assert f"[{version}]: {BASE}/compare/v{CURRENT}...v{version}\n" in changelog
    addon_changelog = (repo / "addons/makerhub_firmware/CHANGELOG.md").read_text()
    assert f"## [Unreleased]\n\n## [{version}] - {DAY}\n\n{ADDON_NOTES}\n\n" in addon_changelog

    assert git(repo, "status", "--porcelain", "--untracked-files=no") == ""
    assert git(repo, "rev-parse", "HEAD~1") == head
    assert git(repo, "log", "-1", "--format=%s") == f"release: {version}"
    assert set(git(repo, "show", "--name-only", "--format=", "HEAD").splitlines()) == RELEASED_FILES
    assert git(repo, "cat-file", "-t", f"v{version}") == "tag"
    assert git(repo, "rev-parse", f"v{version}^{{commit}}") == git(repo, "rev-parse", "HEAD")
    message = git(repo, "tag", "--list", "--format=%(contents)", f"v{version}")
    assert message == f"Makerhub {version}\n\n{NOTES}"


def test_second_release_chains_links_and_fills_an_empty_addon_changelog(repo: Path) -> None:
    first = next_minor(CURRENT)
    assert run_release(repo, first, "--date", DAY).returncode == 0
    changelog = repo / "CHANGELOG.md"
    set_unreleased(changelog, "### Fixed\n\n- A fix.")
    git(repo, "commit", "--quiet", "--all", "--message", "a fix")
    second = f"{first[:-1]}1"

    result = run_release(repo, second, "--date", "2026-12-31")

    assert result.returncode == 0, result.stderr
    text = changelog.read_text()
    assert f"## [{second}] - 2026-12-31\n\n### Fixed\n\n- A fix.\n\n## [{first}] - {DAY}" in text
    assert f"[Unreleased]: {BASE}/compare/v{second}...HEAD\n" in text
    assert f"[{second}]: {BASE}/compare/v{first}...v{second}\n" in text
    assert f"[{first}]: {BASE}/compare/v{CURRENT}...v{first}\n" in text
    addon = (repo / "addons/makerhub_firmware/CHANGELOG.md").read_text()
    assert (
        f"## [{second}] - 2026-12-31\n\n### Changed\n\n"
        f"- No changes of its own: released with Makerhub {second}.\n\n## [{first}]"
    ) in addon
    assert git(repo, "tag", "--list") == f"v{first}\nv{second}"


def test_dry_run_shows_the_changes_and_makes_none(repo: Path) -> None:
    version = next_minor(CURRENT)
    head = git(repo, "rev-parse", "HEAD")
    before = {path: (repo / path).read_bytes() for path in RELEASED_FILES}

    result = run_release(repo, version, "--dry-run", "--date", DAY)

    assert result.returncode == 0, result.stderr
    assert f'+  "version": "{version}"' in result.stdout
    assert f"+## [{version}] - {DAY}" in result.stdout
    assert f"would commit 'release: {version}' and tag v{version}" in result.stdout
    assert {path: (repo / path).read_bytes() for path in RELEASED_FILES} == before
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "tag", "--list") == ""


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("1.2", "'1.2' is not a semantic version MAJOR.MINOR.PATCH[-PRERELEASE]"),
        ("v9.0.0", "'v9.0.0' is not a semantic version MAJOR.MINOR.PATCH[-PRERELEASE] (without"),
        ("09.0.0", "'09.0.0' is not a semantic version"),
        ("9.0.0+build.1", "'9.0.0+build.1' is not a semantic version"),
        ("9.0.0-rc..1", "'9.0.0-rc..1' is not a semantic version"),
        (CURRENT, f"{CURRENT} is not newer than the current version {CURRENT}"),
        (f"{CURRENT}-rc.1", f"{CURRENT}-rc.1 is not newer than the current version {CURRENT}"),
    ],
)
def test_refuses_a_bad_or_old_version(repo: Path, version: str, message: str) -> None:
    head = git(repo, "rev-parse", "HEAD")
    result = run_release(repo, version, "--date", DAY)
    assert result.returncode == 1
    assert result.stderr.startswith(f"release: {message}")
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "tag", "--list") == ""


def test_refuses_a_dirty_tree(repo: Path) -> None:
    manifest = repo / "custom_components/makerhub/manifest.json"
    edited = manifest.read_text().replace('"name": "Makerhub"', '"name": "Makerhub!"')
    manifest.write_text(edited)
    (repo / "untracked.txt").write_text("does not count\n")

    result = run_release(repo, next_minor(CURRENT), "--date", DAY)

    assert result.returncode == 1
    assert result.stderr == (
        "release: the working tree has uncommitted changes:\n"
        "M custom_components/makerhub/manifest.json\n"
    )
    assert manifest.read_text() == edited
    assert git(repo, "tag", "--list") == ""


def test_refuses_an_existing_tag(repo: Path) -> None:
    version = next_minor(CURRENT)
    git(repo, "tag", f"v{version}")
    result = run_release(repo, version, "--date", DAY)
    assert result.returncode == 1
    assert result.stderr == f"release: tag v{version} already exists\n"
    assert git(repo, "status", "--porcelain") == ""


def test_refuses_an_empty_unreleased_section(repo: Path) -> None:
    set_unreleased(repo / "CHANGELOG.md", "")
    git(repo, "commit", "--quiet", "--all", "--message", "nothing to release")

    result = run_release(repo, next_minor(CURRENT), "--date", DAY)

    assert result.returncode == 1
    assert result.stderr == "release: CHANGELOG.md: nothing under [Unreleased] to release\n"
    assert set(versions(repo).values()) == {CURRENT}


def test_refuses_versions_out_of_step(repo: Path) -> None:
    init = repo / "sdk/python/makerhub_unit/__init__.py"
    init.write_text(init.read_text().replace(f'"{CURRENT}"', '"0.0.9"'))
    git(repo, "commit", "--quiet", "--all", "--message", "out of step")

    result = run_release(repo, next_minor(CURRENT), "--date", DAY)

    assert result.returncode == 1
    assert "release: versions are out of step: " in result.stderr
    assert "sdk/python/makerhub_unit/__init__.py 0.0.9" in result.stderr


@pytest.mark.parametrize("day", ["2026-13-01", "24.12.2026", "2026-2-1"])
def test_refuses_a_bad_date(repo: Path, day: str) -> None:
    result = run_release(repo, next_minor(CURRENT), "--date", day)
    assert result.returncode == 2
    assert f"argument --date: {day!r} is not a date YYYY-MM-DD" in result.stderr
    assert git(repo, "status", "--porcelain") == ""


def test_semver_precedence() -> None:
    """semver.org's own example order, and numbers compared as numbers."""
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.2.0",
        "1.10.0",
        "2.0.0",
    ]
    for lower, higher in pairwise(ordered):
        assert release.precedence(lower) < release.precedence(higher), (lower, higher)
