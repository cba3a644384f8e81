"""Translation for the whole program: one gettext catalogue, one ``_()`` and one ``ngettext()``.

Strings are written in English in the code and translated through the
gettext catalogue ``data/locale/<lang>/LC_MESSAGES/lantern.po`` (compiled to
``lantern.mo``; ``make messages`` extracts and updates, ``make catalogues``
compiles). A missing or stale ``.mo`` is compiled from the ``.po`` with Babel
at first use, beside the ``.po`` when that folder is writable, else in the
user cache folder, so a fresh checkout works without a build step.

Catalogue entries (``{"id", "en", "lv"}``) carry their own texts and are read
with :func:`label`.

The language is ``LANTERN_LANG`` if set, else the system locale (``LC_ALL``,
``LC_MESSAGES``, ``LANG``: ``lv_LV.UTF-8`` gives Latvian), else English;
:func:`set_language` changes it for the whole process and :func:`using` for a
block (a report in another language).
"""
from __future__ import annotations

import gettext
import locale as _locale
import logging
import operator
import os
import sys
import tempfile
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Mapping

from layers.resources import resource

SUPPORTED = ("en", "lv")
#: each language by its own name (proper names: shown untranslated, so a user finds their own language)
NAMES = {"en": "English", "lv": "Latviešu"}
SOURCE_LANGUAGE = "en"  # the language of the msgids: needs no catalogue
DOMAIN = "lantern"
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")  # POSIX order: the first one set decides

log = logging.getLogger(__name__)


def _code(value: str) -> str:
    """``lv_LV.UTF-8`` / ``lv-LV`` / ``Latvian_Latvia.1257`` → ``lv``; ``C`` / ``POSIX`` → ``en``."""
    base = value.split(".")[0].split("@")[0].replace("-", "_").strip()
    if base.lower().startswith("latvian"):  # Windows locale names
        return "lv"
    if base.upper() in ("C", "POSIX", ""):
        return SOURCE_LANGUAGE
    return base.split("_")[0].lower()


def default_language(environ: Mapping[str, str] | None = None) -> str:
    """The language to start in: ``LANTERN_LANG``, else the system locale, else English (always in SUPPORTED).

    The GUI calls this at start-up when the user has saved no choice of their own.
    """
    env = os.environ if environ is None else environ
    chosen = _code(env.get("LANTERN_LANG", ""))
    if env.get("LANTERN_LANG") and chosen in SUPPORTED:
        return chosen
    for name in LOCALE_VARIABLES:
        if env.get(name):
            code = _code(env[name])
            return code if code in SUPPORTED else SOURCE_LANGUAGE
    if environ is None and sys.platform == "win32":  # no POSIX variables: ask the system
        try:
            system = _locale.getlocale()[0] or ""
        except ValueError:
            system = ""
        code = _code(system)
        return code if code in SUPPORTED else SOURCE_LANGUAGE
    return SOURCE_LANGUAGE


def startup_language(saved: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The language a window starts in: ``LANTERN_LANG`` (or ``--lang``, which sets it) first, then the user's saved
    choice (View → Language), then the system locale, then English."""
    env = os.environ if environ is None else environ
    if env.get("LANTERN_LANG") and _code(env["LANTERN_LANG"]) in SUPPORTED:
        return _code(env["LANTERN_LANG"])
    if saved in SUPPORTED:
        return saved
    return default_language(env)


_language = default_language()


def set_language(lang: str) -> None:
    """Translate from now on into ``lang`` (one of SUPPORTED)."""
    global _language
    if lang not in SUPPORTED:
        raise ValueError(f"unsupported language {lang!r}; choose one of {', '.join(SUPPORTED)}")
    _language = lang


def language() -> str:
    """The current language."""
    return _language


@contextmanager
def using(lang: str | None) -> Iterator[str]:
    """Translate into ``lang`` inside the block (None: the current language), then switch back."""
    previous = _language
    set_language(lang or previous)
    try:
        yield _language
    finally:
        set_language(previous)


# -- the catalogues --------------------------------------------------------------------------------


def catalogue_source(lang: str):
    """The bundled ``.po`` of ``lang`` (a Traversable; found through layers.resources)."""
    return resource(f"locale/{lang}/LC_MESSAGES/{DOMAIN}.po")


def _cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("lantern", appauthor=False)) / "locale"


def _is_current(mo: Path, po_mtime: float) -> bool:
    try:
        return mo.stat().st_mtime >= po_mtime
    except OSError:
        return False


def compile_catalogue(po_path: Path, mo_path: Path) -> Path:
    """Compile ``po_path`` into ``mo_path`` with Babel (written beside it first, then moved in)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(po_path, "rb") as fh:
        catalog = read_po(fh, domain=DOMAIN)
    mo_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{mo_path.name}.", dir=mo_path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog, use_fuzzy=False)
        os.replace(tmp, mo_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return mo_path


def compiled_catalogue(lang: str) -> Path | None:
    """The path of an up-to-date ``.mo`` for ``lang``, compiled now if missing or older than its ``.po``.

    Beside the ``.po`` if that folder is writable (a checkout, ``make catalogues``), else in the user cache.
    None when there is no catalogue for ``lang``.
    """
    source = catalogue_source(lang)
    if not source.is_file():
        return None
    po = Path(str(source))
    if not po.is_file():  # a zipped bundle: only a compiled .mo shipped beside the .po can serve
        mo = resource(f"locale/{lang}/LC_MESSAGES/{DOMAIN}.mo")
        return _extracted(mo, lang) if mo.is_file() else None
    po_mtime = po.stat().st_mtime
    beside = po.with_suffix(".mo")
    cached = _cache_dir() / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    for candidate in (beside, cached):
        if _is_current(candidate, po_mtime):
            return candidate
    for target in (beside, cached):
        try:
            return compile_catalogue(po, target)
        except OSError as exc:  # a read-only install: try the cache folder
            log.debug("cannot write %s: %s", target, exc)
    return None


def _extracted(mo, lang: str) -> Path:
    target = _cache_dir() / "bundle" / lang / f"{DOMAIN}.mo"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(mo.read_bytes())
    return target


@lru_cache(maxsize=None)
def translations(lang: str) -> gettext.NullTranslations:
    """The gettext translations of ``lang`` (English, or a language without a catalogue: the msgids)."""
    if lang == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    try:
        mo = compiled_catalogue(lang)
    except Exception as exc:  # a broken catalogue must not stop the program: fall back to English
        log.warning("the %s translation could not be loaded (%s); showing English", lang, exc)
        mo = None
    if mo is None:
        return gettext.NullTranslations()
    with open(mo, "rb") as fh:
        return gettext.GNUTranslations(fh)


def reload() -> None:
    """Forget the loaded catalogues (after ``make catalogues``, or in tests)."""
    translations.cache_clear()


# -- the API -----------------------------------------------------------------------------------


def _(message: str) -> str:
    """Translate a user-visible message into the current language."""
    return translations(_language).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a count message for ``n`` in the current language (Latvian has three forms).

    Format the number in afterwards: ``ngettext("{n} place", "{n} places", n).format(n=n)``.
    """
    return translations(_language).ngettext(singular, plural, _count(n))


def _count(n) -> int:
    """``n`` as the int gettext's plural rule needs (numpy ints, whole floats); other amounts take the plural."""
    try:
        return operator.index(n)
    except TypeError:
        try:
            value = float(n)
        except (TypeError, ValueError):
            return 2
        return int(value) if value.is_integer() else 2


def N_(message: str) -> str:
    """Mark a message for extraction without translating it here (it is translated where it is shown)."""
    return message


def label(entry: dict, lang: str | None = None) -> str:
    """The label of a catalogue entry (``{"id", "en", "lv"}``) in the current language."""
    lang = lang or _language
    return entry.get(lang) or entry.get("en") or entry.get("id", "")


__all__ = ["NAMES", "SUPPORTED", "N_", "_", "compiled_catalogue", "default_language", "label", "language", "ngettext",
           "reload", "set_language", "startup_language", "translations", "using"]


# -- numbers in the reader's convention (Latvian: decimal comma, "98,1 %") ---------------------------

_NUMBER_LOCALES = {"en": "en_GB", "lv": "lv_LV"}


def decimal(value: float, digits: int = 1) -> str:
    """``value`` with ``digits`` decimals as the current language writes it (Babel's CLDR data)."""
    from babel.numbers import format_decimal

    pattern = "0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=_NUMBER_LOCALES.get(_language, "en_GB"))


def integer(value: int) -> str:
    """A count with the current language's digit grouping (``1,000,000`` in English, ``1 000 000`` in Latvian)."""
    from babel.numbers import format_decimal

    return format_decimal(value, format="#,##0", locale=_NUMBER_LOCALES.get(_language, "en_GB"))


def percent(share: float, digits: int = 1) -> str:
    """A share (0.981) as a percentage (``98.1%`` in English, ``98,1 %`` in Latvian)."""
    from babel import Locale
    from babel.numbers import format_percent

    locale = _NUMBER_LOCALES.get(_language, "en_GB")
    pattern = Locale.parse(locale).percent_formats[None].pattern  # e.g. "#,##0 %" with a no-break space in lv
    if digits:
        pattern = pattern.replace("0", "0." + "0" * digits, 1)
    return format_percent(share, format=pattern, locale=locale)
