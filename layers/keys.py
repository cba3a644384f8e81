"""This installation's Ed25519 key pair, and signatures made and checked with it.

Each installation (user account) gets one key pair, created on first use,
kept in the user's config folder — never in a workspace. Change-log entries
and partner packages are signed with it; workspaces and receivers keep only
public keys. ``LANTERN_KEY_DIR`` points elsewhere (tests, a second identity).
"""
from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from layers.errors import LanternError
from layers.i18n import _

KEY_FILE = "signing_key.pem"


class SigningKeyError(LanternError):
    """The installation's key cannot be read or written."""


def key_dir() -> Path:
    if os.environ.get("LANTERN_KEY_DIR"):
        return Path(os.environ["LANTERN_KEY_DIR"])
    from platformdirs import user_config_dir

    return Path(user_config_dir("lantern", appauthor=False))


@dataclass(frozen=True)
class PublicKey:
    raw: bytes  # 32 bytes

    @property
    def text(self) -> str:
        """Base64 of the raw key: how a public key is stored in workspaces, manifests and trust lists."""
        return base64.b64encode(self.raw).decode("ascii")

    @classmethod
    def from_text(cls, text: str) -> "PublicKey":
        raw = base64.b64decode(text, validate=True)
        if len(raw) != 32:
            raise ValueError("an Ed25519 public key has 32 bytes")
        return cls(raw)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the raw key, first 16 bytes, as 8 groups of 4 hex digits (read aloud on the phone)."""
        digest = hashlib.sha256(self.raw).hexdigest()[:32]
        return " ".join(digest[i:i + 4] for i in range(0, 32, 4))

    def verify(self, signature: str, data: bytes) -> bool:
        """Whether ``signature`` (base64) is this key's signature of ``data``."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(base64.b64decode(signature, validate=True), data)
        except (InvalidSignature, ValueError, TypeError):
            return False
        return True


class SigningKey:
    """The private half (only ever in memory and in the user's key file)."""

    def __init__(self, private):
        self._private = private

    @property
    def public(self) -> PublicKey:
        from cryptography.hazmat.primitives import serialization

        raw = self._private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return PublicKey(raw)

    def sign(self, data: bytes) -> str:
        """The base64 Ed25519 signature of ``data``."""
        return base64.b64encode(self._private.sign(data)).decode("ascii")


def generate() -> SigningKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return SigningKey(Ed25519PrivateKey.generate())


def installation_key(folder: Path | None = None) -> SigningKey:
    """This installation's key: read from the key folder, or created there (mode 0600) on first use."""
    from cryptography.hazmat.primitives import serialization

    path = (folder or key_dir()) / KEY_FILE
    try:
        if path.exists():
            private = serialization.load_pem_private_key(path.read_bytes(), password=None)
            return SigningKey(private)
        key = generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = key._private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        return key
    except (OSError, ValueError) as exc:
        raise SigningKeyError(_("{path}: the signing key cannot be used ({e})").format(path=path, e=exc)) from None
