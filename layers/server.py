"""Connecting to a shared workspace on PostgreSQL/PostGIS (psycopg 3), with messages that name the server.

A server is addressed as libpq addresses it: a URL (``postgresql://user@host/db``), key-value settings
(``host=… dbname=…``) or a ``pg_service.conf`` service (``service=district``). Passwords come from where
libpq looks for them (``~/.pgpass``, the service file) or from the system keyring (``layers.server_secrets``);
Lantern never writes one into its settings or files, and never shows one in a message.
"""
from __future__ import annotations

import re

from layers.errors import ServerError
from layers.i18n import _

_URL = re.compile(r"^postgres(ql)?://", re.IGNORECASE)
_SETTING = re.compile(r"^\s*(host|hostaddr|dbname|service|port|user)\s*=", re.IGNORECASE)


def is_server_address(text: str) -> bool:
    """Whether ``text`` names a PostgreSQL server rather than a workspace file."""
    text = str(text)
    return bool(_URL.match(text) or _SETTING.match(text))


def describe(address: str) -> str:
    """The address without its password: safe to show and to log."""
    import psycopg.conninfo

    try:
        parts = psycopg.conninfo.conninfo_to_dict(str(address))
    except psycopg.ProgrammingError:
        return _("(an address that cannot be read)")
    parts.pop("password", None)
    if "service" in parts and len(parts) == 1:
        return f"service={parts['service']}"
    host = parts.get("host", "localhost")
    if str(host).startswith("/"):
        host = _("this computer")
    where = f"{host}:{parts['port']}" if parts.get("port") else str(host)
    user = f"{parts['user']}@" if parts.get("user") else ""
    return f"{user}{where}/{parts.get('dbname', '')}".rstrip("/")


def password_in(address: str) -> str | None:
    """A password written into the address itself (``postgresql://user:secret@host/db``), or None."""
    import psycopg.conninfo

    try:
        return psycopg.conninfo.conninfo_to_dict(str(address)).get("password") or None
    except psycopg.ProgrammingError:
        return None


def without_password(address: str) -> str:
    """The address as key-value settings, any password taken out: what a copy remembers of its server."""
    import psycopg.conninfo

    parts = psycopg.conninfo.conninfo_to_dict(str(address))
    parts.pop("password", None)
    return psycopg.conninfo.make_conninfo(**parts)


def connect(address: str, *, autocommit: bool = False, password: str | None = None):
    """A psycopg connection to ``address``; a ServerError naming the server when it cannot be made."""
    import psycopg

    from layers import server_secrets

    password = password or server_secrets.stored(address)
    extra = {"password": password} if password else {}
    try:
        return psycopg.connect(str(address), autocommit=autocommit, connect_timeout=15,
                               application_name="Lantern", **extra)
    except psycopg.ProgrammingError as exc:
        raise ServerError(_("{server}: the address cannot be read ({problem})").format(
            server=describe(address), problem=_first_line(exc))) from None
    except psycopg.OperationalError as exc:
        raise ServerError(_("{server}: cannot connect ({problem})").format(
            server=describe(address), problem=_first_line(exc))) from None


def _first_line(exc: BaseException) -> str:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = [primary] if primary else str(exc).strip().splitlines()
    line = text[-1] if text else type(exc).__name__
    return re.sub(r"password=\S+", "password=…", line)


def server_error(address: str, exc: BaseException) -> ServerError:
    """A database error during work on ``address`` as a message for the user."""
    return ServerError(_("{server}: the server refused ({problem}); nothing was changed").format(
        server=describe(address), problem=_first_line(exc)))
