"""Partner packages: another municipality's or NGO's export, imported read-only — signed, verified, all or nothing.

A package is a GeoPackage written by mapping.share_export with a
``lantern_manifest`` table of key/value rows (each value JSON). The manifest
— every field: format, municipality, profile, marking, created, catalogues,
rules, and per layer its label, form, feature count and content hash — is
signed with the exporter's installation key (``layers.keys``). The signer's
public key is a manifest field (so it is signed too); the signature is the one
row outside it. Each layer's content hash is in the signed manifest, so every
layer is signed as well.

Importing a package, in this order, before anything is written:

1. reads the manifest (a damaged, truncated or foreign file is refused);
2. verifies the signature over the canonical manifest (``canonical``) —
   a changed field, an added or removed row, or a different key fails;
3. checks the manifest's shape and every layer name: a strict pattern, a
   layer Lantern shares, never a reserved or existing table, no two names
   that differ only by case;
4. checks that the signer's key is trusted (``layers.trust``; this
   installation's own key is trusted implicitly). An unknown key is refused
   unless the caller trusts it now (``trust_new``, or ``ask`` answering yes);
5. reads every layer and recomputes its content hash and feature count.

Then the layers are written, from exactly the data that was hashed, into new
tables ``partner_<origin>_<layer>`` — never into the workspace's own layers —
registered in ``gpkg_contents`` (and ``gpkg_geometry_columns``), labelled with
their origin in ``layer_info``, with one change-log entry: all in one SQLite
transaction, so the import succeeds completely or changes nothing.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from layers import history_store, package_view, place_outline
from layers.errors import InputError, LanternError
from layers.i18n import _, ngettext

MANIFEST_TABLE = package_view.MANIFEST_TABLE
FORMAT = "lantern-partner-package/3"  # 3: the manifest also signs the file's whole content (layers.package_view)
OLD_FORMATS = ("lantern-partner-package/1",)
#: signed, but only the layers Lantern reads: what QGIS shows of the file besides them is not
UNSIGNED_CONTENT_FORMATS = ("lantern-partner-package/2",)
PREFIX = "partner_"
SIGNATURE_KEY = "signature"
SIGNER_KEY = "signer"
MANIFEST_FIELDS = ("format", "municipality", "profile", "marking", "created", "catalogues", "rules", "history", "layers",
                   "content", SIGNER_KEY)
LAYER_FIELDS = ("label", "form", "sha256", "features")
PROFILES = ("public", "partner", "police")

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
COLUMN_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
RESERVED_TABLES = frozenset({"change_log", "workspace_meta", "layer_info", MANIFEST_TABLE, "sqlite_sequence"})
RESERVED_PREFIXES = ("gpkg_", "rtree_", "sqlite_", PREFIX)
_SQL_TYPES = {"INTEGER": "INTEGER", "INT": "INTEGER", "MEDIUMINT": "INTEGER", "SMALLINT": "INTEGER",
              "TINYINT": "INTEGER", "REAL": "REAL", "FLOAT": "REAL", "DOUBLE": "REAL", "BOOLEAN": "BOOLEAN",
              "TEXT": "TEXT", "DATE": "DATE", "DATETIME": "DATETIME"}


# -- content hashes and the signed manifest ------------------------------------------------


def _canonical_value(value):
    """One spelling per value, whatever dtype a reader chose (Int64 vs float64, numpy vs Python)."""
    from layers.values import is_missing

    if is_missing(value):
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def layer_hash(frame) -> str:
    """A content hash of a layer: canonical JSON of its records in order, geometries as WKB hex."""
    import shapely

    digest = hashlib.sha256()
    columns = sorted(c for c in frame.columns if c != "geometry")
    digest.update(json.dumps(columns).encode())
    geoms = shapely.to_wkb(frame.geometry.values, hex=True) if "geometry" in frame.columns else [None] * len(frame)
    for record, wkb in zip(frame[columns].to_dict("records"), geoms):
        digest.update(json.dumps([_canonical_value(record[c]) for c in columns], default=str,
                                 ensure_ascii=False).encode())
        digest.update((wkb or "").encode())
    return digest.hexdigest()


def canonical(manifest: dict) -> bytes:
    """The bytes that are signed: the manifest (signature row excluded) as canonical JSON."""
    return json.dumps(manifest, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


def sign_manifest(manifest: dict, key=None) -> tuple[dict, str]:
    """(the manifest with the signer's public key added, the signature over all of it)."""
    from layers.keys import installation_key

    key = key or installation_key()
    signed = {k: v for k, v in manifest.items() if k != SIGNATURE_KEY}
    signed[SIGNER_KEY] = key.public.text
    return signed, key.sign(canonical(signed))


def manifest_rows(manifest: dict, signature: str) -> list[tuple[str, str]]:
    """The ``lantern_manifest`` rows: (key, JSON value), the signature last."""
    rows = [(k, json.dumps(v, ensure_ascii=False)) for k, v in manifest.items()]
    return rows + [(SIGNATURE_KEY, json.dumps(signature))]


# -- reading and verifying -------------------------------------------------------------------


@dataclass
class Signer:
    """Who signed a package: the key, its fingerprint, the name the package declares, and trust status."""
    key: str
    fingerprint: str
    municipality: str
    trusted: bool
    same_name: list = field(default_factory=list)  # other trusted keys that carry the same name

    def question(self, path: Path) -> str:
        text = _("{file} is signed by a key this installation has not trusted yet.\n\n"
                 "Municipality (as the package declares it): {name}\nKey fingerprint: {fp}\n\n"
                 "Trust packages signed with this key only if the sender confirms this fingerprint "
                 "(by phone or in person).").format(file=Path(path).name, name=self.municipality, fp=self.fingerprint)
        if self.same_name:
            text += "\n\n" + _("Warning: a different key is already trusted for {name} ({fp}).").format(
                name=self.municipality, fp=", ".join(t.fingerprint for t in self.same_name))
        return text


class UntrustedKeyError(InputError):
    """The package is intact but signed by a key that is not (yet) trusted."""

    def __init__(self, path, signer: Signer):
        self.signer = signer
        super().__init__(path, _("signed by a key that is not trusted (fingerprint {fp}, declared municipality "
                                 "{name}); nothing was imported. Check the fingerprint with the sender, then use "
                                 "'trust-key' or '--trust-new'").format(fp=signer.fingerprint,
                                                                        name=signer.municipality))


@dataclass
class Package:
    path: Path
    manifest: dict
    signer: Signer
    frames: dict  # layer name -> the frame whose hash was verified (features: index = fid)


def _refuse(path: Path, problem: str) -> InputError:
    return InputError(path, problem + "; " + _("nothing was imported"))


def _no_duplicates(pairs):
    keys = [k for k, _v in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate key in JSON object")
    return dict(pairs)


def read_manifest(path: str | Path) -> tuple[dict, str]:
    """(the manifest, the signature) as stored — nothing checked yet but that it can be read."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, _("no such file"))
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise _refuse(path, _("cannot be read ({e})").format(e=exc)) from None
    try:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (MANIFEST_TABLE,)).fetchone() \
                is None:
            raise _refuse(path, _("not a Lantern partner package (no manifest)"))
        rows = conn.execute(f"SELECT key, value FROM {MANIFEST_TABLE}").fetchall()
    except sqlite3.DatabaseError as exc:
        raise _refuse(path, _("damaged or not a GeoPackage ({e})").format(e=exc)) from None
    finally:
        conn.close()
    keys = [k for k, _v in rows]
    if len(set(keys)) != len(keys):
        raise _refuse(path, _("the manifest names a field twice: the package was altered"))
    try:
        values = {str(k): json.loads(v, object_pairs_hook=_no_duplicates) for k, v in rows}
    except (TypeError, ValueError):
        raise _refuse(path, _("the manifest cannot be read: the package was altered or damaged")) from None
    signature = values.pop(SIGNATURE_KEY, None)
    return values, signature


def check_signature(path: Path, manifest: dict, signature) -> "object":
    """The signer's PublicKey, when ``signature`` is its signature over the whole manifest."""
    from layers.keys import PublicKey

    fmt = manifest.get("format")
    if fmt in OLD_FORMATS:
        raise _refuse(path, _("an unsigned package from an older Lantern; ask the sender to export it again"))
    if fmt in UNSIGNED_CONTENT_FORMATS:
        raise _refuse(path, _("a package from an older Lantern, whose signature does not cover what GIS programs "
                              "show of it; ask the sender to export it again"))
    if fmt != FORMAT:
        raise _refuse(path, _("unknown package format {f!r}").format(f=fmt))
    if not isinstance(signature, str) or not isinstance(manifest.get(SIGNER_KEY), str):
        raise _refuse(path, _("the package is not signed"))
    try:
        public = PublicKey.from_text(manifest[SIGNER_KEY])
    except ValueError:
        raise _refuse(path, _("the signer's key in the manifest is damaged")) from None
    try:
        data = canonical(manifest)
    except ValueError:
        raise _refuse(path, _("the manifest cannot be read: the package was altered or damaged")) from None
    if not public.verify(signature, data):
        raise _refuse(path, _("the signature does not match the manifest: the package was altered after it "
                              "was signed"))
    return public


def reserved(name: str) -> bool:
    low = name.casefold()
    return low in RESERVED_TABLES or low.startswith(RESERVED_PREFIXES)


def shared_layer_names() -> set[str]:
    """The layers a Lantern package may carry: those the allow-list shares with some profile."""
    from layers.resources import load_json

    return {name for name, spec in load_json("sensitivity.json")["layers"].items()
            if spec.get("share") and not reserved(name)}


def check_shape(path: Path, manifest: dict) -> None:
    """Every field present with the right type; every layer name strict, known, unreserved and unique."""
    missing = [f for f in MANIFEST_FIELDS if f not in manifest]
    extra = [f for f in manifest if f not in MANIFEST_FIELDS]
    if missing or extra:
        raise _refuse(path, _("the manifest's fields are not those of a Lantern package ({f})").format(
            f=", ".join(missing + extra)))
    municipality, layers = manifest["municipality"], manifest["layers"]
    if not isinstance(municipality, str) or not municipality.strip() or len(municipality) > 300:
        raise _refuse(path, _("the manifest names no municipality"))
    if manifest["profile"] not in PROFILES:
        raise _refuse(path, _("unknown profile {p!r}").format(p=manifest["profile"]))
    if not isinstance(manifest["created"], str) or not isinstance(layers, dict) or not layers:
        raise _refuse(path, _("the manifest lists no layers"))
    if not isinstance(manifest["content"], str) or not re.fullmatch(r"[0-9a-f]{64}", manifest["content"]):
        raise _refuse(path, _("the manifest's digest of the file is malformed"))
    known, seen = shared_layer_names(), {}
    for name, info in layers.items():
        folded = name.casefold()
        if folded in seen:
            raise _refuse(path, _("layers {a!r} and {b!r} differ only by case").format(a=seen[folded], b=name))
        seen[folded] = name
        if not NAME_PATTERN.match(name) or reserved(name):
            raise _refuse(path, _("layer name {name!r} is not allowed").format(name=name))
        if name not in known:
            raise _refuse(path, _("layer {name!r} is not a layer Lantern shares").format(name=name))
        if (not isinstance(info, dict) or sorted(info) != sorted(LAYER_FIELDS)
                or not isinstance(info["label"], str) or not isinstance(info["form"], str)
                or not re.fullmatch(r"[a-z_]{1,30}", info["form"])
                or not isinstance(info["sha256"], str) or not re.fullmatch(r"[0-9a-f]{64}", info["sha256"])
                or not isinstance(info["features"], int) or isinstance(info["features"], bool)
                or info["features"] < 0):
            raise _refuse(path, _("the manifest's entry for layer {name} is malformed").format(name=name))


def signer_of(path: Path, manifest: dict, public) -> Signer:
    from layers import trust

    trusted = trust.is_trusted(public)
    return Signer(public.text, public.fingerprint, manifest["municipality"], trusted,
                  [] if trusted else trust.others_named(manifest["municipality"], public))


def _read_layers(path: Path, manifest: dict) -> dict:
    import pyogrio

    frames = {}
    for name, info in manifest["layers"].items():
        try:
            frame = pyogrio.read_dataframe(path, layer=name, fid_as_index=info["form"] == "features")
            frame = place_outline.join_frame(frame) if "geometry" in frame.columns else frame
            if "geometry" in frame.columns and frame.geometry.crs is not None:
                frame = frame.to_crs(4326)
        except Exception as exc:  # noqa: BLE001 - any read failure means the package is damaged
            raise _refuse(path, _("layer {name} cannot be read ({e})").format(name=name, e=exc)) from None
        if info["form"] == "features":
            frame.index.name = "fid"
        bad = [c for c in frame.columns if c != "geometry" and (not COLUMN_PATTERN.match(str(c))
                                                                 or str(c) in ("fid", "geom"))]
        if bad:
            raise _refuse(path, _("layer {name} has a column name that is not allowed ({c!r})").format(
                name=name, c=bad[0]))
        if layer_hash(frame) != info["sha256"] or len(frame) != info["features"]:
            raise _refuse(path, _("layer {name} does not match its hash in the manifest: the package was "
                                  "altered or damaged").format(name=name))
        frames[name] = frame
    return frames


def write_manifest(path: Path, rows) -> None:
    """The manifest table (key, value), written last, with plain SQLite: nothing else in the file changes, so
    the digest the manifest holds stays true (layers.package_view leaves out only this table's own rows)."""
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute(f'CREATE TABLE "{MANIFEST_TABLE}" ("fid" INTEGER PRIMARY KEY NOT NULL, "key" TEXT,'
                         ' "value" TEXT)')
            conn.executemany(f'INSERT INTO "{MANIFEST_TABLE}" ("key", "value") VALUES (?, ?)', list(rows))
            conn.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change,"
                         " srs_id) VALUES (?, 'attributes', ?, '', ?, NULL)", (MANIFEST_TABLE, MANIFEST_TABLE, _now()))
    finally:
        conn.close()


def check_content(path: Path, manifest: dict) -> None:
    """The file holds exactly what was signed: its digest (everything but the manifest) is the manifest's."""
    try:
        digest = package_view.file_digest(path)
    except sqlite3.Error as exc:
        raise _refuse(path, _("cannot be read ({e})").format(e=exc)) from None
    if digest != manifest["content"]:
        raise _refuse(path, _("the file's content differs from what was signed (a table, a style, an index or a "
                              "layer was changed after signing, e.g. what GIS programs show)"))


def open_package(path: str | Path, require_trust: bool = False) -> Package:
    """A package whose signature, manifest, layer names and layer hashes are all verified.

    With ``require_trust`` an intact package from an untrusted key raises UntrustedKeyError
    (before any layer is read)."""
    path = Path(path)
    manifest, signature = read_manifest(path)
    public = check_signature(path, manifest, signature)
    check_shape(path, manifest)
    check_content(path, manifest)
    signer = signer_of(path, manifest, public)
    if require_trust and not signer.trusted:
        raise UntrustedKeyError(path, signer)
    return Package(path, manifest, signer, _read_layers(path, manifest))


def verify(path: str | Path) -> dict:
    """The manifest, after checking the signature, the layer names and every layer's hash (not trust)."""
    return open_package(path).manifest


# -- importing -------------------------------------------------------------------------------


@dataclass
class PackageReport:
    origin: str
    profile: str
    tables: list[str]
    fingerprint: str = ""
    newly_trusted: bool = False

    def summary(self) -> str:
        text = ngettext("Imported {n} read-only layer from {origin} ({profile} package).",
                        "Imported {n} read-only layers from {origin} ({profile} package).", len(self.tables)).format(
            n=len(self.tables), origin=self.origin, profile=self.profile)
        if self.newly_trusted:
            text += " " + _("Key {fp} is now trusted.").format(fp=self.fingerprint)
        return text


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_")[:30] or "partner"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def _sql_value(value):
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (int, float, str, bytes)):
        return value
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _declared_types(path: Path, name: str) -> dict[str, str]:
    """The package's declared column types, reduced to a few safe SQL types (anything else becomes TEXT)."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT name, type FROM pragma_table_info(?)", (name,)).fetchall()
    except sqlite3.Error:
        rows = []
    finally:
        conn.close()
    return {str(n): _SQL_TYPES.get(str(t or "").split("(")[0].strip().upper(), "TEXT") for n, t in rows}


def _column_type(frame, column: str, declared: dict) -> str:
    if column in declared:
        return declared[column]
    kind = frame[column].dtype.kind
    return {"i": "INTEGER", "u": "INTEGER", "f": "REAL", "b": "BOOLEAN"}.get(kind, "TEXT")


def _geometry_type(frame) -> tuple[str, int]:
    import shapely

    geoms = [g for g in frame.geometry.values if g is not None]
    types = {g.geom_type.upper() for g in geoms if not g.is_empty}
    has_z = any(shapely.has_z(g) for g in geoms)
    return (types.pop() if len(types) == 1 else "GEOMETRY"), (2 if has_z else 0)


def _write_table(db, table: str, frame, declared: dict, label: str) -> None:
    """Create and fill one partner table, registered as GeoPackage features or attributes. A layer that mixes
    points and areas is stored as the workspace stores places: positions, outlines and their copy."""
    from layers import gpkg_geometry

    spatial = "geometry" in frame.columns
    if spatial:
        frame, outlines = place_outline.split_frame(frame)
        if outlines is not None:
            _write_table(db, place_outline.outline_table(table), outlines, declared, label)
    columns = [c for c in frame.columns if c != "geometry"]
    defs = ['"fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL']
    geom_type, z = _geometry_type(frame) if spatial else ("", 0)
    if spatial:
        defs.append(f'"geom" {geom_type}')
    defs += [f'"{c}" {_column_type(frame, c, declared)}' for c in columns]
    conn = db.conn
    conn.execute(f'CREATE TABLE "{table}" ({", ".join(defs)})')
    names = (['"geom"'] if spatial else []) + [f'"{c}"' for c in columns]
    sql = f'INSERT INTO "{table}" ({", ".join(names)}) VALUES ({", ".join("?" * len(names))})'
    records = frame[columns].to_dict("records")
    blobs = gpkg_geometry.encode(frame.geometry.values) if spatial else [None] * len(frame)
    conn.executemany(sql, ([b] * spatial + [_sql_value(r[c]) for c in columns] for r, b in zip(records, blobs)))
    if spatial:
        valid = frame.geometry[~frame.geometry.is_empty & frame.geometry.notna()]
        bounds = [None] * 4 if valid.empty else [float(v) for v in valid.total_bounds]
        conn.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change,"
            " min_x, min_y, max_x, max_y, srs_id) VALUES (?, 'features', ?, ?, ?, ?, ?, ?, ?, 4326)",
            (table, table, label, _now(), *bounds))
        conn.execute("INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m)"
                     " VALUES (?, 'geom', ?, 4326, ?, 0)", (table, geom_type, z))
    else:
        conn.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change,"
                     " srs_id) VALUES (?, 'attributes', ?, ?, ?, NULL)", (table, table, label, _now()))


def _target_tables(path: Path, workspace, manifest: dict) -> dict[str, str]:
    """layer name -> new table name, after checking none equals or case-folds onto an existing table."""
    prefix = f"{PREFIX}{_slug(manifest['municipality'])}_"
    existing = {r[0].casefold() for r in workspace.db.conn.execute("SELECT name FROM sqlite_master")}
    tables = {name: prefix + name for name in manifest["layers"]}
    clash = [t for t in tables.values() if t.casefold() in existing]
    if clash:
        shown = ", ".join(clash[:3]) + (" …" if len(clash) > 3 else "")
        raise InputError(path, _("this partner's layers are already in the workspace ({t}); nothing was "
                                 "overwritten").format(t=shown))
    bad = [t for t in tables.values() if not NAME_PATTERN.match(t)]
    if bad:
        raise _refuse(path, _("layer name {name!r} is not allowed").format(name=bad[0]))
    return tables


def _refuse_in_a_shared_copy(workspace, path: Path) -> None:
    """A package adds tables; a copy of a shared workspace sends rows to its server, not new tables (yet)."""
    from layers.replica import is_replica

    if is_replica(workspace.db.conn):
        raise InputError(path, _("a copy of a shared workspace cannot take a partner package yet (it would add "
                                 "tables the server does not have); import it into a workspace file"))


def import_package(workspace, path: str | Path, *, trust_new: bool = False,
                   ask: Callable[[Signer], bool] | None = None, author: str = "") -> PackageReport:
    """Add a verified, signed package's layers to the workspace as read-only partner tables, in one transaction.

    A package from a key that is not trusted is refused (UntrustedKeyError) unless ``trust_new`` is set or
    ``ask(signer)`` answers yes; the key is then added to the trusted list once the import has committed."""
    from layers import migrations, trust
    from layers.keys import PublicKey

    path = Path(path)
    _refuse_in_a_shared_copy(workspace, path)
    manifest, signature = read_manifest(path)
    public = check_signature(path, manifest, signature)
    check_shape(path, manifest)
    check_content(path, manifest)
    signer = signer_of(path, manifest, public)
    tables = _target_tables(path, workspace, manifest)
    if not signer.trusted and not (trust_new or (ask is not None and ask(signer))):
        raise UntrustedKeyError(path, signer)
    frames = _read_layers(path, manifest)
    origin, profile = manifest["municipality"], manifest["profile"]
    labels = {name: f"Partner: {origin} — {info['label']} ({profile}, {manifest['created'][:10]})"
              for name, info in manifest["layers"].items()}
    declared = {name: _declared_types(path, name) for name in manifest["layers"]}
    try:
        with workspace.atomic() as db:
            for name, table in tables.items():
                _write_table(db, table, frames[name], declared[name], labels[name])
                db.conn.execute(
                    f"INSERT INTO {migrations.LAYER_INFO_TABLE} (table_name, synthetic, source, updated)"
                    " VALUES (?, 0, ?, ?) ON CONFLICT(table_name) DO UPDATE SET synthetic = 0,"
                    " source = excluded.source, updated = excluded.updated", (table, labels[name], _now()))
            history_store.append(db, author=author, action="import package", table="*", row_id=None, before=None,
                                 after={"origin": origin, "profile": profile, "tables": list(tables.values()),
                                        "file": path.name, "signer": signer.fingerprint,
                                        "manifest_sha256": hashlib.sha256(canonical(manifest)).hexdigest(),
                                        "layers": {t: manifest["layers"][n]["sha256"] for n, t in tables.items()}})
    except sqlite3.Error as exc:
        raise InputError(path, _("the package could not be written into the workspace ({e}); nothing was "
                                 "imported").format(e=exc)) from None
    newly = False
    if not signer.trusted:
        try:
            trust.add(PublicKey.from_text(signer.key), origin)
            newly = True
        except LanternError as exc:
            raise LanternError(_("{file}: the layers were imported, but {e}").format(file=path.name, e=exc)) from None
    return PackageReport(origin, profile, list(tables.values()), signer.fingerprint, newly)


def trust_package_key(path: str | Path) -> tuple[Signer, bool]:
    """Trust the key that signed the package at ``path`` (after verifying it whole): (signer, newly added)."""
    from layers import trust
    from layers.keys import PublicKey

    package = open_package(path)
    if package.signer.trusted:
        return package.signer, False
    trust.add(PublicKey.from_text(package.signer.key), package.signer.municipality)
    return package.signer, True
