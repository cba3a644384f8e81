"""Trusted partner keys: whose signed packages this installation imports.

A partner package is signed with its exporter's installation key
(``layers.keys``). The receiver keeps, beside its own key in the user's config
folder, a JSON list of the partner keys it trusts: each with its fingerprint,
the public key, the municipality's name as the package declared it, and when
it was trusted. Only the public key is compared; the fingerprint is recomputed
from it and the name is a label for people (anyone can *claim* a name — the
fingerprint, checked with the sender by phone or in person, is what counts).

This installation's own key is trusted implicitly: importing your own package
(another workspace of yours, a colleague's copy made with the same account)
needs no question. It is never written to the list.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from layers import keys
from layers.errors import LanternError
from layers.i18n import _

TRUST_FILE = "trusted_partners.json"


class TrustStoreError(LanternError):
    """The list of trusted partner keys cannot be read or written."""


@dataclass(frozen=True)
class TrustedKey:
    fingerprint: str
    key: str  # PublicKey.text
    municipality: str
    trusted: str  # ISO time, UTC

    def line(self) -> str:
        return f"{self.fingerprint}  {self.municipality}  (trusted {self.trusted[:10]})"


def trust_file() -> Path:
    return keys.key_dir() / TRUST_FILE


def own_key() -> keys.PublicKey | None:
    """This installation's public key, if it has one (never creates a key just to look)."""
    if not (keys.key_dir() / keys.KEY_FILE).exists():
        return None
    return keys.installation_key().public


def trusted_keys() -> list[TrustedKey]:
    """The trusted partner keys, oldest first (a damaged list is an error, never an empty list)."""
    path = trust_file()
    if not path.exists():
        return []
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        result = []
        for entry in entries:
            public = keys.PublicKey.from_text(entry["key"])  # the fingerprint is recomputed, never believed
            result.append(TrustedKey(public.fingerprint, public.text, str(entry.get("municipality", "")),
                                     str(entry.get("trusted", ""))))
        return result
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise TrustStoreError(_("{path}: the list of trusted partner keys cannot be read ({e})").format(
            path=path, e=exc)) from None


def is_own(public: keys.PublicKey) -> bool:
    mine = own_key()
    return mine is not None and mine.raw == public.raw


def find(public: keys.PublicKey) -> TrustedKey | None:
    """The trust entry of ``public`` (this installation's own key counts as trusted), or None."""
    if is_own(public):
        return TrustedKey(public.fingerprint, public.text, _("this installation"), "")
    return next((t for t in trusted_keys() if t.key == public.text), None)


def is_trusted(public: keys.PublicKey) -> bool:
    return find(public) is not None


def others_named(municipality: str, public: keys.PublicKey) -> list[TrustedKey]:
    """Trusted keys of *other* fingerprints that carry the same name (a warning sign when asked to trust)."""
    name = municipality.casefold().strip()
    return [t for t in trusted_keys() if t.municipality.casefold().strip() == name and t.key != public.text]


def add(public: keys.PublicKey, municipality: str) -> TrustedKey:
    """Trust ``public`` from now on (idempotent). Written to a temporary file and renamed into place."""
    existing = find(public)
    if existing is not None:
        return existing
    entries = trusted_keys()
    entry = TrustedKey(public.fingerprint, public.text, municipality,
                       dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    entries.append(entry)
    path = trust_file()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump([asdict(e) for e in entries], fh, ensure_ascii=False, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise TrustStoreError(_("{path}: the partner key cannot be added to the trusted list ({e})").format(
            path=path, e=exc)) from None
    return entry
