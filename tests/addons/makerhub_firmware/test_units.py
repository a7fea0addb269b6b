"""Small pieces on their own: symlink resolution, paths, signing, the secrets box."""

from __future__ import annotations

from pathlib import Path
import stat

import pytest

from makerhub_firmware.errors import RefusedError, UnauthorizedError
from makerhub_firmware.signing import UrlSigner
from makerhub_firmware.tree import check_path, resolve_link
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
    "path", ["../x", "a/../b", "/abs", "a//b", "a/./b", ".git/config", "x/.GIT/hooks", "a\\b"]
)
def test_hostile_paths(path: str) -> None:
    with pytest.raises(RefusedError):
        check_path(path)


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
