"""A shared workspace's password in the system keyring (Secret Service, macOS Keychain, Windows Credential
Locker), never in Lantern's settings or files.

Where there is no keyring (a server without a desktop session), nothing is stored: the password is asked for
each session, or comes from ``~/.pgpass`` or a ``pg_service.conf`` service, as libpq finds them.
"""
from __future__ import annotations

SERVICE = "Lantern shared workspace"
_CACHE: dict[str, str] = {}  # what was read from the keyring in this session (a keyring call can be slow)


def _key(address: str) -> str:
    from layers.server import without_password

    return without_password(address)


def available() -> bool:
    """Whether this system has a keyring Lantern can store a password in."""
    try:
        import keyring
        from keyring.backends import fail

        return not isinstance(keyring.get_keyring(), fail.Keyring)
    except Exception:  # a broken keyring setup is no keyring
        return False


def stored(address: str) -> str | None:
    """The password kept for ``address``, or None."""
    key = _key(address)
    if key in _CACHE:
        return _CACHE[key]
    if not available():
        return None
    import keyring

    try:
        found = keyring.get_password(SERVICE, key)
    except Exception:  # locked, or the user refused: as if none were kept
        return None
    if found:
        _CACHE[key] = found
    return found


def store(address: str, password: str) -> bool:
    """Keep ``password`` for ``address`` in the keyring; False when there is none (nothing is written anywhere)."""
    if not available():
        return False
    import keyring

    try:
        keyring.set_password(SERVICE, _key(address), password)
    except Exception:
        return False
    _CACHE[_key(address)] = password
    return True


def forget(address: str) -> None:
    _CACHE.pop(_key(address), None)
    if available():
        import keyring

        try:
            keyring.delete_password(SERVICE, _key(address))
        except Exception:
            pass
