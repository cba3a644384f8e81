"""The text encoding of a CSV or a Shapefile's .dbf: the one asked for, or detected.

Detection reads the bytes: valid UTF-8 is UTF-8. Otherwise Windows-1257 (the Baltic code page Excel and
older GIS use in Latvia) is taken only when the text then holds Baltic letters and nothing a Baltic
text would not (so a Western "Café" in Latin-1 is refused, not silently misread); the caller adds a
notice naming the file and the encoding used.
"""
from __future__ import annotations

import codecs
from collections.abc import Iterable
from pathlib import Path

from layers.errors import InputError
from layers.i18n import _

BALTIC = "cp1257"
#: letters that only a Baltic text holds (Latvian, Lithuanian): evidence for Windows-1257
_BALTIC_LETTERS = frozenset("āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽąęėįųĄĘĖĮŲ")
#: what else Windows-1257 text may hold beyond ASCII (Estonian letters, typographic marks)
_BALTIC_OTHER = frozenset("õäöüÕÄÖÜåæøÅÆØ„“”‘’–—«»°€§·…\u00a0×")


def requested(path: Path, name: str) -> str:
    """The codec name of an encoding the user asked for; an unknown one is refused, naming the file."""
    try:
        return codecs.lookup(name.strip()).name
    except (LookupError, ValueError):
        raise InputError(path, _("unknown text encoding '{name}'; give one such as utf-8 or cp1257").format(
            name=name)) from None


def first_error(blocks: Iterable[bytes], encoding: str) -> tuple[int, int] | None:
    """(offending byte, position) of the first byte ``encoding`` cannot decode; None when all decode."""
    decoder, offset = codecs.getincrementaldecoder(encoding)(), 0
    for block in blocks:
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(block)
        except UnicodeDecodeError as exc:  # exc.object: the bytes held back from the last block, then this one
            return exc.object[exc.start], offset - pending + exc.start
        offset += len(block)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        return exc.object[exc.start], offset - len(exc.object) + exc.start
    return None


def looks_baltic(blocks: Iterable[bytes]) -> bool:
    """Whether the bytes read as Windows-1257 give Baltic letters, and only characters a Baltic text holds."""
    found = set()
    for block in blocks:
        found |= {c for c in block.decode(BALTIC, errors="replace") if ord(c) > 127}
    return bool(found & _BALTIC_LETTERS) and found <= _BALTIC_LETTERS | _BALTIC_OTHER


def detect(blocks) -> str | None:
    """"utf-8", "cp1257", or None (neither fits); ``blocks`` is a callable giving the bytes anew."""
    if first_error(blocks(), "utf-8") is None:
        return "utf-8"
    if looks_baltic(blocks()):
        return BALTIC
    return None


def notice(path: Path, encoding: str) -> str:
    """The notice of an encoding detected rather than declared."""
    return _("{file} is not UTF-8 and was read as {encoding} (Windows Baltic); if letters look wrong, give its "
             "encoding").format(file=Path(path).name, encoding=encoding)


def not_readable(path: Path, encoding: str, byte: int, pos: int) -> InputError:
    """The refusal of a file that is not text in the encoding asked for."""
    return InputError(path, _("cannot be read as {encoding} text (byte 0x{byte:02X} at position {pos}); give its "
                              "encoding, e.g. cp1257 or utf-8").format(encoding=encoding, byte=byte, pos=pos))


__all__ = ["BALTIC", "detect", "first_error", "looks_baltic", "notice", "not_readable", "requested"]
