"""Layer kinds, declared as data in ``data/layer_kinds.json``.

A kind is a declaration: id, labels, geometry type, fields (name, type,
allowed values, required) and default style. Nothing here is specific to a
kind: adding one to the JSON file is enough.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from layers.i18n import label
from layers.resources import load_json

FIELD_TYPES = ("text", "integer", "real", "boolean", "month", "date", "enum", "multi_enum")
GEOMETRY_TYPES = ("Point", "MultiPolygon", "MultiLineString", "Geometry")

#: Provenance fields of kinds declared with ``"osm_source": true``.
OSM_FIELDS = (
    {"name": "osm_type", "type": "enum", "en": "OSM type", "lv": "OSM tips",
     "values": [{"id": t, "en": t, "lv": t} for t in ("node", "way", "relation")]},
    {"name": "osm_id", "type": "integer", "en": "OSM id", "lv": "OSM id"},
    {"name": "osm_tags", "type": "text", "en": "OSM tags", "lv": "OSM birkas"},
)

#: Column that keeps attributes a kind does not declare (as a JSON object).
EXTRA_COLUMN = "extra"


@dataclass(frozen=True)
class Choice:
    id: str
    en: str
    lv: str

    @property
    def label(self) -> str:
        return label({"id": self.id, "en": self.en, "lv": self.lv})


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    en: str
    lv: str
    required: bool = False
    choices: tuple[Choice, ...] = ()
    minimum: float | None = None

    @property
    def label(self) -> str:
        return label({"id": self.name, "en": self.en, "lv": self.lv})

    @property
    def allowed(self) -> frozenset[str]:
        return frozenset(c.id for c in self.choices)

    @property
    def sql_type(self) -> str:
        return {"integer": "INTEGER", "real": "REAL", "boolean": "BOOLEAN"}.get(self.type, "TEXT")


@dataclass(frozen=True)
class Style:
    color: str
    fill_color: str
    fill_opacity: float = 0.8
    weight: float = 2
    radius: float = 6
    dash: str | None = None
    shape: str = "circle"
    classify: str | None = None  # field whose value picks one of ``classes``
    classes: dict | None = None  # value → style overrides (color, weight, dash)


@dataclass(frozen=True)
class LayerKind:
    id: str
    en: str
    lv: str
    geometry: str
    fields: tuple[Field, ...]
    style: Style
    personal_data_free: bool = False
    extra_allowed: bool = field(default=True)
    group: str = "thematic"  # or "basemap": muted reference layers drawn underneath
    geometry_optional: bool = False  # e.g. a national hotline with no public address

    @property
    def is_basemap(self) -> bool:
        return self.group == "basemap"

    @property
    def label(self) -> str:
        return label({"id": self.id, "en": self.en, "lv": self.lv})

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def columns(self) -> tuple[str, ...]:
        """Attribute columns in the workspace table (without fid and geometry)."""
        return self.field_names + ((EXTRA_COLUMN,) if self.extra_allowed else ())


def _choices(decl: dict) -> tuple[Choice, ...]:
    if "values_from" in decl:
        entries = _named_catalogue(decl["values_from"])
    else:
        entries = decl.get("values", [])
    return tuple(Choice(e["id"], e["en"], e["lv"]) for e in entries)


def _named_catalogue(name: str) -> list[dict]:
    doc = load_json(f"{name}.json")
    # each catalogue file holds one list next to its version
    lists = [v for v in doc.values() if isinstance(v, list)]
    if len(lists) != 1:
        raise ValueError(f"catalogue data/{name}.json must hold exactly one list")
    return lists[0]


def _field(decl: dict) -> Field:
    if decl["type"] not in FIELD_TYPES:
        raise ValueError(f"field {decl['name']!r}: unknown type {decl['type']!r}")
    return Field(
        name=decl["name"],
        type=decl["type"],
        en=decl["en"],
        lv=decl["lv"],
        required=bool(decl.get("required", False)),
        choices=_choices(decl),
        minimum=decl.get("min"),
    )


def _kind(decl: dict) -> LayerKind:
    if decl["geometry"] not in GEOMETRY_TYPES:
        raise ValueError(f"kind {decl['id']!r}: unknown geometry {decl['geometry']!r}")
    personal_free = bool(decl.get("personal_data_free", False))
    return LayerKind(
        id=decl["id"],
        en=decl["en"],
        lv=decl["lv"],
        geometry=decl["geometry"],
        fields=tuple(_field(f) for f in [*decl["fields"], *(OSM_FIELDS if decl.get("osm_source") else ())]),
        style=Style(**decl["style"]),
        personal_data_free=personal_free,
        group=decl.get("group", "thematic"),
        geometry_optional=bool(decl.get("geometry_optional", False)),
        # a free-form 'extra' column could carry personal data: not for cases
        extra_allowed=not personal_free,
    )


@lru_cache(maxsize=None)
def layer_kinds() -> dict[str, LayerKind]:
    """All kinds by id, in drawing order from bottom to top."""
    return {d["id"]: _kind(d) for d in load_json("layer_kinds.json")["kinds"]}


def kind(kind_id: str) -> LayerKind:
    try:
        return layer_kinds()[kind_id]
    except KeyError:
        known = ", ".join(layer_kinds())
        raise KeyError(f"unknown layer kind {kind_id!r}; known kinds: {known}") from None


def place_categories() -> tuple[Choice, ...]:
    return tuple(Choice(e["id"], e["en"], e["lv"]) for e in _named_catalogue("place_categories"))


def forms_of_exploitation() -> tuple[Choice, ...]:
    return tuple(Choice(e["id"], e["en"], e["lv"]) for e in _named_catalogue("forms_of_exploitation"))
