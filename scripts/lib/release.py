"""Cut a release: bump every version, date the changelogs' notes, commit and tag.

    scripts/release VERSION [--dry-run] [--date YYYY-MM-DD]

VERSION is a semantic version (``MAJOR.MINOR.PATCH`` or ``MAJOR.MINOR.PATCH-PRERELEASE``)
newer than the current one. The script refuses uncommitted changes to tracked files, an
existing tag ``vVERSION``, versions that are out of step and a CHANGELOG.md with nothing
under ``[Unreleased]``. It sets VERSION in the integration's manifest, both pyprojects,
the SDK's ``__version__`` and every add-on's ``config.yaml`` (and ``openapi.yaml``), moves
each changelog's Unreleased notes under ``[VERSION] - DATE``, commits ``release: VERSION``
and makes the annotated tag ``vVERSION`` whose message is the release notes. It pushes
nothing. ``--dry-run`` checks and shows the changes without making them. Standard
library only, Python 3.11 or newer: it runs from any checkout.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import date, datetime
import difflib
from pathlib import Path
import re
import shutil
import subprocess
import sys

REPO = Path(__file__).resolve().parents[2]
CHANGELOG = "CHANGELOG.md"

# semver.org's grammar without build metadata ("+..."), which has no place in a tag.
SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
UNRELEASED = re.compile(r"^## \[Unreleased\][ \t]*\n", re.MULTILINE)
NEXT_SECTION = re.compile(r"^## \[", re.MULTILINE)
LINK_DEFINITION = re.compile(r"^\[[^\]]+\]: ", re.MULTILINE)
UNRELEASED_LINK = re.compile(
    r"^\[Unreleased\]: (?P<base>\S+)/compare/(?P<previous>\S+)\.\.\.HEAD[ \t]*$", re.MULTILINE
)


class ReleaseError(Exception):
    """The release cannot go ahead; the message says why."""


@dataclass(frozen=True)
class VersionField:
    """Where a file keeps the version: a pattern whose groups are (before, version, after)."""

    path: str
    pattern: re.Pattern[str]


def version_fields(repo: Path) -> list[VersionField]:
    """Every file that carries the release version."""
    fields = [
        VersionField(
            "custom_components/makerhub/manifest.json",
            re.compile(r'^(\s*"version":\s*")([^"]*)(")', re.MULTILINE),
        ),
        VersionField("pyproject.toml", re.compile(r'^(version = ")([^"]*)(")$', re.MULTILINE)),
        VersionField(
            "sdk/python/pyproject.toml", re.compile(r'^(version = ")([^"]*)(")$', re.MULTILINE)
        ),
        VersionField(
            "sdk/python/makerhub_unit/__init__.py",
            re.compile(r'^(__version__ = ")([^"]*)(")$', re.MULTILINE),
        ),
    ]
    for addon in sorted(path.parent for path in repo.glob("addons/*/config.yaml")):
        name = addon.relative_to(repo).as_posix()
        fields.append(
            VersionField(
                f"{name}/config.yaml", re.compile(r'^(version: "?)([^"\s]*)("?)$', re.MULTILINE)
            )
        )
        if (addon / "openapi.yaml").is_file():
            fields.append(
                VersionField(
                    f"{name}/openapi.yaml", re.compile(r"^(  version: )(\S+)()$", re.MULTILINE)
                )
            )
    return fields


def precedence(version: str) -> tuple[tuple[int, ...], int, tuple[tuple[int, int, str], ...]]:
    """A key that orders versions as semver.org says (a pre-release before its release)."""
    core, _, prerelease = version.partition("-")
    numbers = tuple(int(part) for part in core.split("."))
    if not prerelease:
        return numbers, 1, ()
    identifiers = tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in prerelease.split(".")
    )
    return numbers, 0, identifiers


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run git in ``repo``; raise ReleaseError with its message when it fails."""
    executable = shutil.which("git")
    if executable is None:
        raise ReleaseError("git is not installed")
    result = subprocess.run(  # noqa: S603  (git with our own arguments)
        [executable, "-C", str(repo), *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        message = result.stderr.strip() or result.stdout.strip()
        raise ReleaseError(f"git {' '.join(args)} failed: {message}")
    return result


def current_version(repo: Path, fields: list[VersionField]) -> str:
    """The one version every field holds; refuse fields that disagree or are missing."""
    found: dict[str, str] = {}
    for field in fields:
        matches = field.pattern.findall((repo / field.path).read_text())
        if len(matches) != 1:
            raise ReleaseError(f"{field.path}: found {len(matches)} version fields, not 1")
        found[field.path] = matches[0][1]
    versions = set(found.values())
    if len(versions) != 1:
        listed = ", ".join(f"{path} {version}" for path, version in found.items())
        raise ReleaseError(f"versions are out of step: {listed}")
    return versions.pop()


def dated(changelog: str, path: str, version: str, day: str, empty_notes: str | None) -> str:
    """``changelog`` with its Unreleased notes under ``## [version] - day``.

    An empty Unreleased section is refused unless ``empty_notes`` says what to write.
    The ``[Unreleased]`` comparison link, when there is one, moves to the new tag.
    """
    heading = UNRELEASED.search(changelog)
    if heading is None:
        raise ReleaseError(f"{path}: no '## [Unreleased]' section")
    following = [
        match.start()
        for match in (
            NEXT_SECTION.search(changelog, heading.end()),
            LINK_DEFINITION.search(changelog, heading.end()),
        )
        if match is not None
    ]
    end = min(following, default=len(changelog))
    notes = changelog[heading.end() : end].strip()
    if not notes:
        if empty_notes is None:
            raise ReleaseError(f"{path}: nothing under [Unreleased] to release")
        notes = empty_notes
    released = f"## [Unreleased]\n\n## [{version}] - {day}\n\n{notes}\n\n"
    result = changelog[: heading.start()] + released + changelog[end:]
    link = UNRELEASED_LINK.search(result)
    if link is not None:
        base, previous = link.group("base"), link.group("previous")
        result = (
            result[: link.start()]
            + f"[Unreleased]: {base}/compare/v{version}...HEAD\n"
            + f"[{version}]: {base}/compare/{previous}...v{version}"
            + result[link.end() :]
        )
    return result.rstrip("\n") + "\n"


def release_notes(changelog: str, version: str) -> str:
    """The notes under ``## [version]`` in ``changelog``."""
    heading = re.search(rf"^## \[{re.escape(version)}\][^\n]*\n", changelog, re.MULTILINE)
    assert heading is not None
    following = NEXT_SECTION.search(changelog, heading.end())
    return changelog[heading.end() : following.start() if following else None].strip()


@dataclass(frozen=True)
class Plan:
    """What a release changes: each file's new text, and the tag's message."""

    version: str
    files: dict[str, tuple[str, str]]  # path -> (old text, new text)
    tag_message: str


def plan(repo: Path, version: str, day: str) -> Plan:
    """Check that ``version`` can be released from ``repo`` and work out the changes."""
    if SEMVER.fullmatch(version) is None:
        hint = " (without the 'v')" if version.startswith("v") else ""
        raise ReleaseError(
            f"{version!r} is not a semantic version MAJOR.MINOR.PATCH[-PRERELEASE]{hint}"
        )
    tag = f"v{version}"
    if git(repo, "tag", "--list", tag).stdout.strip():
        raise ReleaseError(f"tag {tag} already exists")
    changes = git(repo, "status", "--porcelain", "--untracked-files=no").stdout.strip()
    if changes:
        raise ReleaseError(f"the working tree has uncommitted changes:\n{changes}")
    fields = version_fields(repo)
    current = current_version(repo, fields)
    if precedence(version) <= precedence(current):
        raise ReleaseError(f"{version} is not newer than the current version {current}")

    originals: dict[str, str] = {}
    texts: dict[str, str] = {}

    def text(path: str) -> str:
        if path not in texts:
            originals[path] = texts[path] = (repo / path).read_text()
        return texts[path]

    for field in fields:
        texts[field.path] = field.pattern.sub(rf"\g<1>{version}\g<3>", text(field.path))
    texts[CHANGELOG] = dated(text(CHANGELOG), CHANGELOG, version, day, None)
    filler = f"### Changed\n\n- No changes of its own: released with Makerhub {version}."
    for addon_changelog in sorted(repo.glob("addons/*/CHANGELOG.md")):
        path = addon_changelog.relative_to(repo).as_posix()
        texts[path] = dated(text(path), path, version, day, filler)
    files = {path: (originals[path], texts[path]) for path in texts}
    notes = release_notes(files[CHANGELOG][1], version)
    return Plan(version, files, f"Makerhub {version}\n\n{notes}\n")


def apply(repo: Path, release: Plan) -> None:
    """Write the files, commit them and tag the commit."""
    for path, (_, new) in release.files.items():
        (repo / path).write_text(new)
    git(repo, "add", "--", *release.files)
    git(repo, "commit", "--quiet", "--message", f"release: {release.version}")
    git(
        repo,
        "tag",
        "--annotate",
        "--cleanup=verbatim",
        "--message",
        release.tag_message,
        f"v{release.version}",
    )


def show(release: Plan) -> str:
    """The changes a release would make, as a unified diff and the tag it would make."""
    lines: list[str] = []
    for path, (old, new) in release.files.items():
        lines.extend(
            difflib.unified_diff(
                old.splitlines(keepends=True),
                new.splitlines(keepends=True),
                f"a/{path}",
                f"b/{path}",
            )
        )
    lines.append(f"\nwould commit 'release: {release.version}' and tag v{release.version}:\n\n")
    lines.append(release.tag_message)
    return "".join(lines)


def iso_date(text: str) -> str:
    """``text`` if it is a real date written YYYY-MM-DD."""
    try:
        if ISO_DATE.fullmatch(text) is None:
            raise ValueError(text)
        date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None
    return text


def main(argv: list[str] | None = None) -> int:
    """Release the version on the command line."""
    parser = argparse.ArgumentParser(
        prog="scripts/release", description="Bump every version, date the changelogs, tag."
    )
    parser.add_argument("version", help="the new version, e.g. 0.2.0 or 1.0.0-rc.1")
    parser.add_argument("--dry-run", action="store_true", help="check and show, change nothing")
    parser.add_argument(
        "--date",
        type=iso_date,
        default=datetime.now().astimezone().date().isoformat(),
        help="the release date in the changelogs (default: today)",
    )
    arguments = parser.parse_args(argv)
    try:
        release = plan(REPO, arguments.version, arguments.date)
        if arguments.dry_run:
            print(show(release), end="")
            return 0
        apply(REPO, release)
    except ReleaseError as error:
        print(f"release: {error}", file=sys.stderr)
        return 1
    tag = f"v{release.version}"
    prerelease = " --prerelease" if "-" in release.version else ""
    print(
        f"Committed 'release: {release.version}' and tagged {tag}. To publish it:\n"
        f"  git push origin HEAD {tag}\n"
        f"  gh release create {tag} --title 'Makerhub {release.version}' --notes-from-tag"
        f"{prerelease}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
