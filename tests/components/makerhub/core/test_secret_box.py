"""The secret box's key file and its refusals: a widened key file is made private again,
a key of the wrong size and a value that was never sealed are refused by name."""

from __future__ import annotations

import logging
from pathlib import Path
import stat

import pytest

from custom_components.makerhub.core.secret_box import (
    KEY_BYTES,
    SecretBox,
    SecretBoxError,
    load_or_create_key,
)


def test_a_widened_key_file_is_private_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "makerhub.key"
    key = load_or_create_key(path)
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        assert load_or_create_key(path) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert f"{path} had mode 644; reset to 0600" in caplog.text


def test_a_key_of_the_wrong_size_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "makerhub.key"
    path.write_bytes(b"short")
    path.chmod(0o600)
    with pytest.raises(SecretBoxError, match=f"does not hold a {KEY_BYTES}-byte key"):
        SecretBox.from_key_file(path)


def test_only_sealed_values_open(tmp_path: Path) -> None:
    box = SecretBox.from_key_file(tmp_path / "makerhub.key")
    sealed = box.encrypt(b"token", "makerhub test")
    assert box.decrypt(sealed, "makerhub test") == b"token"
    with pytest.raises(SecretBoxError, match="not a stored secret"):
        box.decrypt("token", "makerhub test")
    with pytest.raises(SecretBoxError, match="does not decrypt with this key"):
        box.decrypt(sealed, "another context")
