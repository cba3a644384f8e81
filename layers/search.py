"""Find features by name or address in a workspace, offline: SQL ``LIKE`` over an allow-list of fields.

What may be searched is data (``data/search_fields.json``): per layer kind, the
public name columns and the OpenStreetMap address tags. Kinds not listed are
never read, and a catalogue listing reported cases (or a field the kind does
not have) is refused. Matching ignores case and diacritics ("brivibas" finds
"Brīvības"), and the words typed must appear in that order. SQLite's own ``LIKE``
folds ASCII only: plain-ASCII text is matched by SQLite alone, other text goes
through ``fold``, registered on the connection as ``lantern_fold`` (a Python
call per such row: ~0.6 s for 370,000 named rows, ~0.06 s on a real city; see
bench/search_city.py). A street (road segments sharing a name) is one hit.
"""
from __future__ import annotations

import sqlite3
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from layers.viewport import boxes_source
from layers.catalogue import kind as get_kind
from layers.resources import load_json

FOLD_FUNCTION = "lantern_fold"
PER_KIND = 40  # candidates read per layer, before ranking


class Hit(NamedTuple):
    kind: str
    fid: int
    label: str
    lon: float | None
    lat: float | None
    bbox: tuple[float, float, float, float] | None = None  # west, south, east, north; None for a point


def _decompose(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


#: Latin letters with diacritics (U+00C0–U+024F) -> their plain form: str.translate is C, and SQLite
#: calls ``fold`` once per row searched
_LATIN = {cp: _decompose(chr(cp)) for cp in range(0xC0, 0x250) if _decompose(chr(cp)) != chr(cp)}


def fold(text: str | None) -> str:
    """Lower case without diacritics: the form both the query and the searched text are compared in."""
    if not text:
        return ""
    if text.isascii():
        return text.lower()
    quick = text.translate(_LATIN).lower()
    return quick if quick.isascii() else _decompose(text)


@lru_cache(maxsize=None)
def searchable() -> dict[str, dict]:
    """The allow-list, checked against the catalogue: {kind: {"fields": [...], "osm_tags": [...], ...}}."""
    kinds = load_json("search_fields.json")["kinds"]
    for kind_id, spec in kinds.items():
        k = get_kind(kind_id)
        if getattr(k, "personal_data_free", False) or kind_id == "reported_cases":
            raise ValueError(f"search_fields.json: {kind_id} must never be searched")
        text_fields = {f.name for f in k.fields if f.type == "text"}
        bad = [f for f in spec.get("fields", []) if f not in text_fields]
        if bad or not spec.get("fields"):
            raise ValueError(f"search_fields.json: {kind_id} has no text field {bad or '(none listed)'}")
        if spec.get("osm_tags") and "osm_tags" not in text_fields:
            raise ValueError(f"search_fields.json: {kind_id} keeps no osm_tags")
    return kinds


def like_pattern(words: list[str]) -> str:
    """``%w1%w2%``: the words in the order typed, anything between them."""
    escaped = (w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for w in words)
    return "%" + "%".join(escaped) + "%"


def _tag(tag: str) -> str:
    if not all(c.isalnum() or c in ":_" for c in tag):
        raise ValueError(f"search_fields.json: bad OSM tag {tag!r}")
    return f"json_extract(t.osm_tags, '$.\"{tag}\"')"


def _address_sql(spec: dict) -> str:
    """The address as one text (street and house number), or '' where the layer keeps none."""
    tags = spec.get("osm_tags") or []
    if not tags:
        return "''"
    return "trim(" + " || ' ' || ".join(f"coalesce({_tag(t)}, '')" for t in tags) + ")"


def _match(text: str) -> str:
    """ASCII text is matched by SQLite alone (its LIKE folds ASCII case); only text with other
    characters is folded, in Python."""
    like = "LIKE :pattern ESCAPE '\\'"
    return f"({text} {like} OR ({text} GLOB '*[^ -~]*' AND {FOLD_FUNCTION}({text}) {like}))"


def _kind_sql(kind_id: str, spec: dict, boxes: str) -> str:
    """The search of one layer; ``boxes``: its features' boxes as an SQL source (layers.viewport.boxes_source:
    an area's box is its outline's, so a hit on an area zooms to the whole area)."""
    name = " || ' ' || ".join(f'coalesce(t."{f}", \'\')' for f in spec["fields"])
    address = _address_sql(spec)
    text = f'(t."{spec["fields"][0]}")' if address == "''" and len(spec["fields"]) == 1 \
        else f"({name} || ' ' || {address})"
    likes = _match(text)
    nonempty = " OR ".join(f't."{f}" IS NOT NULL' for f in spec["fields"])
    if spec.get("osm_tags"):
        nonempty += " OR t.osm_tags IS NOT NULL"
    if spec.get("group_by_name"):
        first = spec["fields"][0]
        return (f'SELECT min(t.fid), t."{first}", \'\', min(r.minx), min(r.miny), max(r.maxx), max(r.maxy) '
                f'FROM "{kind_id}" AS t LEFT JOIN {boxes} AS r ON r.id = t.fid '
                f'WHERE t."{first}" IS NOT NULL AND {likes} GROUP BY t."{first}" LIMIT {PER_KIND}')
    return (f"SELECT t.fid, {name}, {address}, r.minx, r.miny, r.maxx, r.maxy "
            f'FROM "{kind_id}" AS t LEFT JOIN {boxes} AS r ON r.id = t.fid '
            f"WHERE ({nonempty}) AND {likes} LIMIT {PER_KIND}")


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _hit(kind_id: str, row, group: bool) -> Hit:
    fid, name, address, minx, miny, maxx, maxy = row
    name, address = (name or "").strip(), (address or "").strip()
    label = f"{name}, {address}" if name and address else name or address
    if minx is None:
        return Hit(kind_id, int(fid), label, None, None)
    bbox = (minx, miny, maxx, maxy) if group or (minx, miny) != (maxx, maxy) else None
    return Hit(kind_id, int(fid), label, (minx + maxx) / 2, (miny + maxy) / 2, bbox)


def _rank(hit: Hit, query: str) -> tuple:
    label = fold(hit.label)
    return (0 if label.startswith(query) else 1 if f" {query}" in f" {label}" else 2, len(label), label)


def search(conn: sqlite3.Connection, text: str, limit: int = 30, kinds=None) -> list[Hit]:
    """Features whose allow-listed name or address contains the words of ``text`` (in that order), best first.

    Case and diacritics are ignored. ``kinds`` narrows the layers searched (never beyond the allow-list).
    Returns at most ``limit`` hits; a street (road segments of one name) is one hit, its box the whole street.
    """
    words = [w for w in fold(text).split() if w]
    if not words:
        return []
    conn.create_function(FOLD_FUNCTION, 1, fold, deterministic=True)
    present = _tables(conn)
    pattern = like_pattern(words)
    allowed = searchable()
    hits: list[Hit] = []
    for kind_id, spec in allowed.items():
        if (kinds is not None and kind_id not in kinds) or kind_id not in present:
            continue
        if f"rtree_{kind_id}_geom" not in present:
            continue
        rows = conn.execute(_kind_sql(kind_id, spec, boxes_source(conn, kind_id)), {"pattern": pattern}).fetchall()
        hits.extend(_hit(kind_id, row, bool(spec.get("group_by_name"))) for row in rows)
    query = " ".join(words)
    hits.sort(key=lambda h: _rank(h, query))
    return hits[:limit]
