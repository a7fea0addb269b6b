"""Secrets at rest: AES-GCM with a key generated on first start, kept beside the data.

Shared by the integration (key in Home Assistant's ``.storage``) and the firmware add-on
(key in its data dir, a vendored copy: ``scripts/sync-vendored``).

The key file is created with mode 0600 (and put back to 0600 if someone loosened it).
Each ciphertext is bound to what it belongs to through the associated data, so a token
copied from one repository's record into another's does not decrypt. Sub-keys for URL
signing and archive ids are derived from the same key (HMAC-SHA256 with a label).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
from pathlib import Path
import secrets
import stat
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_LOGGER = logging.getLogger(__name__)

KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
PREFIX: Final = "v1:"
PRIVATE_FILE: Final = 0o600


class SecretBoxError(ValueError):
    """A stored secret that does not decrypt: a wrong key or a tampered record."""


def write_private_file(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600 (refusing to follow or replace an existing file)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as file:
        file.write(data)


def read_private_file(path: Path) -> bytes:
    """Read a file that must stay private, first resetting its mode to 0600 if wider."""
    mode = stat.S_IMODE(path.lstat().st_mode)
    if mode != PRIVATE_FILE:
        _LOGGER.warning("%s had mode %o; reset to 0600", path, mode)
        path.chmod(PRIVATE_FILE)
    return path.read_bytes()


def load_or_create_key(path: Path) -> bytes:
    """Return the key stored in ``path``, generating it on first start."""
    if not path.exists():
        write_private_file(path, secrets.token_bytes(KEY_BYTES))
        _LOGGER.info("generated a new secrets key in %s", path)
    key = read_private_file(path)
    if len(key) != KEY_BYTES:
        raise SecretBoxError(f"{path} does not hold a {KEY_BYTES}-byte key")
    return key


class SecretBox:
    """Encrypts and decrypts small secrets (tokens, ssh keys, archive tails)."""

    def __init__(self, key: bytes) -> None:
        """Use a 32-byte key."""
        self._aead = AESGCM(key)
        self._key = key

    @classmethod
    def from_key_file(cls, path: Path) -> SecretBox:
        """Load (or create) the key file and return the box."""
        return cls(load_or_create_key(path))

    def encrypt(self, plaintext: bytes, context: str) -> str:
        """Return the ciphertext as text, bound to ``context``."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext, context.encode())
        return PREFIX + base64.b64encode(nonce + sealed).decode()

    def decrypt(self, token: str, context: str) -> bytes:
        """Return the plaintext of :meth:`encrypt`'s output for the same ``context``."""
        if not token.startswith(PREFIX):
            raise SecretBoxError("not a stored secret")
        try:
            raw = base64.b64decode(token[len(PREFIX) :], validate=True)
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
        except (ValueError, InvalidTag):
            raise SecretBoxError("stored secret does not decrypt with this key") from None

    def derive(self, label: str) -> bytes:
        """Return a sub-key for another purpose (URL signing, archive ids)."""
        return hmac.new(self._key, f"makerhub-firmware:{label}".encode(), hashlib.sha256).digest()
