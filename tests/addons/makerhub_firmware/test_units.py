"""Small pieces on their own: symlink resolution, paths, signing, the secrets box."""

from __future__ import annotations

from pathlib import Path
import stat

import pytest

from makerhub_firmware.errors import RefusedError, TooLargeError, UnauthorizedError
from makerhub_firmware.signing import UrlSigner
from makerhub_firmware.tree import (
    MODE_FILE,
    MODE_SYMLINK,
    Tree,
    TreeEntry,
    TreeIssue,
    check_entries,
    path_problem,
    resolve_link,
)
from makerhub_firmware.vendor.secret_box import SecretBox, SecretBoxError


@pytest.mark.parametrize(
    ("path", "links", "expected"),
    [
        ("a/link", {"a/link": "b"}, "a/b"),
        ("a/link", {"a/link": "../b"}, "b"),
        ("a/link", {"a/link": "./c/../d"}, "a/d"),
        ("l2", {"l1": "x/y", "l2": "l1/.."}, "x"),
    ],
)
def test_links_inside_resolve(path: str, links: dict[str, str], expected: str) -> None:
    assert resolve_link(path, links) == expected


@pytest.mark.parametrize(
    ("links", "reason"),
    [
        ({"l": ".."}, "outside"),
        ({"a/l": "../.."}, "outside"),
        ({"l": "/etc/passwd"}, "absolute"),
        ({"l": "x/..", "x": "../.."}, "outside"),
        ({"l": "a", "a": "b", "b": "a"}, "loops"),
        ({"l": "x/../../y", "x": "z"}, "outside"),
    ],
)
def test_links_outside_are_refused(links: dict[str, str], reason: str) -> None:
    with pytest.raises(RefusedError, match=reason):
        resolve_link("l" if "l" in links else "a/l", links)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("../x", "'..' component"),
        ("a/../b", "'..' component"),
        ("/abs", "absolute path"),
        ("a//b", "empty, '.' or '..' component"),
        ("a/./b", "empty, '.' or '..' component"),
        (".git/config", "'.git' component"),
        ("x/.GIT/hooks", "'.git' component"),
        ("a\\b", "backslash or NUL"),
        ("a\0b", "backslash or NUL"),
        ("x" * 4097, "longer than 4096 bytes"),
    ],
)
def test_hostile_paths(path: str, reason: str) -> None:
    assert reason in (path_problem(path) or "")


def test_plain_paths_pass() -> None:
    assert path_problem("lib/sensor.py") is None
    assert path_problem("a/.github/x..y") is None


def test_packaging_refuses_a_tree_with_every_problem_in_the_details() -> None:
    """The packager's own check (behind validation) names every problem, not the first."""
    tree = Tree(
        [
            TreeEntry("big.bin", MODE_FILE, "0" * 40, 2000),
            TreeEntry("odd", 0o100664, "1" * 40, 1),
            TreeEntry("up", MODE_SYMLINK, "2" * 40, 2),
        ],
        [TreeIssue("a\\b", "path contains a backslash or NUL")],
    )
    with pytest.raises(RefusedError) as caught:
        check_entries(tree, {"up": ".."}, 1000)
    assert type(caught.value) is RefusedError
    assert caught.value.details == [
        {"file": "a\\b", "path": "", "reason": "path contains a backslash or NUL"},
        {
            "file": "big.bin",
            "path": "",
            "reason": "2000 bytes, over the single-file limit of 1000 bytes",
        },
        {"file": "odd", "path": "", "reason": "unsupported mode 100664"},
        {"file": "up", "path": "", "reason": "symlink to '..' points outside the tree"},
    ]
    assert caught.value.message.startswith("tree: a\\b: path contains a backslash or NUL; ")
    with pytest.raises(TooLargeError, match=r"tree: big\.bin: 2000 bytes"):
        check_entries(Tree(tree.entries[:1], []), {}, 1000)
    check_entries(Tree(tree.entries[:1], []), {}, 2000)


def test_signer_round_trip_and_refusals() -> None:
    signer = UrlSigner(b"k" * 32, default_ttl=600)
    signed, expires = signer.sign("/api/download/abc", now=1000)
    assert expires == 1600
    query = dict(part.split("=") for part in signed.split("?")[1].split("&"))
    signer.verify("/api/download/abc", query["expires"], query["signature"], now=1599)
    for path, exp, sig, now, message in [
        ("/api/download/abc", query["expires"], query["signature"], 1601, "expired"),
        ("/api/download/abd", query["expires"], query["signature"], 1000, "invalid signature"),
        ("/api/download/abc", "1700", query["signature"], 1000, "invalid signature"),
        ("/api/download/abc", "-5", query["signature"], 1000, "invalid expires"),
        ("/api/download/abc", None, None, 1000, "missing"),
        ("/api/download/abc", query["expires"], "é" * 64, 1000, "invalid signature"),
    ]:
        with pytest.raises(UnauthorizedError, match=message):
            signer.verify(path, exp, sig, now=now)
    other = UrlSigner(b"o" * 32)
    with pytest.raises(UnauthorizedError):
        other.verify("/api/download/abc", query["expires"], query["signature"], now=1000)


def test_secret_box_key_file_and_binding(tmp_path: Path) -> None:
    key = tmp_path / "secrets.key"
    box = SecretBox.from_key_file(key)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    sealed = box.encrypt(b"ghp_token", "repo:a:credential")
    assert "ghp_token" not in sealed
    assert box.decrypt(sealed, "repo:a:credential") == b"ghp_token"
    with pytest.raises(SecretBoxError):
        box.decrypt(sealed, "repo:b:credential")  # copied into another record
    with pytest.raises(SecretBoxError):
        box.decrypt(sealed[:-4] + "AAAA", "repo:a:credential")
    key.chmod(0o644)
    again = SecretBox.from_key_file(key)  # same key, permissions put back
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert again.decrypt(sealed, "repo:a:credential") == b"ghp_token"
    assert box.derive("url-signing") != box.derive("archive-id")
