"""``.makerhubignore`` matching, checked against git's own implementation.

Each case writes real files into a work tree, asks ``git ls-files --others
--exclude-from=.makerhubignore`` which files git keeps, and compares with the matcher.
"""

from __future__ import annotations

from pathlib import Path
import subprocess

import pytest

from makerhub_firmware.ignore import IgnoreRules
from makerhub_firmware.tree import TreeEntry, select_entries

FILES = [
    "main.py",
    "README.md",
    "readme.md",
    "build/out.o",
    "src/build/gen.c",
    "src/main.c",
    "src/main.h",
    "src/deep/a/b/c.txt",
    "src/deep/a/b/keep.txt",
    "docs/index.md",
    "docs/api/ref.md",
    "docs/keep.md",
    "logs/app.log",
    "logs/keep/app.log",
    "test/test_x.py",
    "tests/test_y.py",
    "#hash.txt",
    "!bang.txt",
    "space .txt",
    "trail.txt",
    "a[b].txt",
    "x1.bin",
    "xa.bin",
    "foo/bar/baz",
    "foo/baz",
    "data.json",
    "nested/data.json",
    "Makefile",
    "vendor/lib/x.py",
    "vendor/lib/y.py",
    "abc/def/abc/file",
    "examples/demo.py",
]

CASES = {
    "simple name": "build\n",
    "directory only": "build/\n",
    "anchored": "/build\n",
    "glob extension": "*.o\n*.log\n",
    "negation": "*.log\n!logs/keep/app.log\n",
    "cannot reinclude under excluded dir": "logs/\n!logs/keep/app.log\n",
    "reinclude via dir glob": "docs/*\n!docs/keep.md\n",
    "double star prefix": "**/data.json\n",
    "double star suffix": "src/deep/**\n!src/deep/a/b/keep.txt\n",
    "double star middle": "src/**/c.txt\n",
    "question mark and brackets": "x?.bin\n[Rr]eadme.md\n",
    "negated bracket": "x[!0-9].bin\n",
    "escaped hash and bang": "\\#hash.txt\n\\!bang.txt\n",
    "comment and blank": "# comment\n\n   \nmain.py\n",
    "trailing spaces": "trail.txt   \n",
    "escaped trailing space": "space\\ .txt\n",
    "escaped bracket": "a\\[b\\].txt\n",
    "middle slash anchors": "bar/baz\nfoo/baz\n",
    "star does not cross slash": "foo/*\n",
    "directory named like file": "test\n",
    "character class": "[[:upper:]]*\n",
    "everything but": "*\n!*.py\n!*/\n",
    "double star alone": "**\n!Makefile\n",
    "vendor except": "vendor/**\n!vendor/lib/\n!vendor/lib/x.py\n",
    "repeated name": "abc/\n",
    "unterminated bracket": "[abc\nmain.py\n",
    "star star not at boundary": "src/**.c\n",
}


def git_kept(root: Path, patterns: str) -> set[str]:
    (root / ".makerhubignore").write_text(patterns)
    out = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-from=.makerhubignore", "-z"],
        cwd=root,
        capture_output=True,
        check=True,
        env={"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "PATH": "/usr/bin:/bin"},
    ).stdout.decode()
    return {path for path in out.split("\0") if path and path != ".makerhubignore"}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ignore-tree")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    for path in FILES:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(path)
    return root


@pytest.mark.parametrize("patterns", CASES.values(), ids=CASES.keys())
def test_matches_git(tree: Path, patterns: str) -> None:
    rules = IgnoreRules.parse(patterns)
    ours = {path for path in FILES if not rules.is_excluded(path)}
    assert ours == git_kept(tree, patterns)


def test_cases_are_not_trivial(tree: Path) -> None:
    """Every case excludes something and keeps something: none passes by accident."""
    for name, patterns in CASES.items():
        kept = git_kept(tree, patterns)
        if name == "unterminated bracket":
            assert kept == set(FILES) - {"main.py"}
            continue
        assert kept, name
        assert kept != set(FILES), name


def test_examples_and_replaced_files_always_left_out() -> None:
    entries = [
        TreeEntry(p, 0o100644, "0" * 40, 1)
        for p in ["examples/a.py", "src/examples/b.py", "env.json", "b.py", "a.py"]
    ]
    kept = select_entries(entries, IgnoreRules.parse(""), {"env.json"})
    assert [e.path for e in kept] == ["a.py", "b.py", "src/examples/b.py"]
