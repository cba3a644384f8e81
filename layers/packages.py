"""Partner packages: importing another municipality's or NGO's export, read-only and verified.

A package is a GeoPackage written by mapping.share_export with a
``lantern_manifest`` table. Importing checks every layer's hash against the
manifest (and refuses the package if any differs), then copies the layers
into new tables named ``partner_<origin>_<layer>`` — never into the
workspace's own layers — labelled with their origin in ``layer_info``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from layers.errors import InputError
from layers.i18n import _

MANIFEST_TABLE = "lantern_manifest"
PREFIX = "partner_"


@dataclass
class PackageReport:
    origin: str
    profile: str
    tables: list[str]

    def summary(self) -> str:
        return _("Imported {n} read-only layer(s) from {origin} ({profile} package).").format(
            n=len(self.tables), origin=self.origin, profile=self.profile)


def read_manifest(path: Path) -> dict:
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    try:
        rows = pyogrio.read_dataframe(path, layer=MANIFEST_TABLE, read_geometry=False)
    except (DataSourceError, DataLayerError, ValueError):
        raise InputError(path, _("not a Lantern partner package (no manifest)")) from None
    return {k: json.loads(v) for k, v in zip(rows["key"], rows["value"])}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_")[:30] or "partner"


def verify(path: str | Path) -> dict:
    """The manifest, after checking every layer's hash; raises InputError naming the first mismatch."""
    import pyogrio

    from mapping.share_export import layer_hash

    path = Path(path)
    manifest = read_manifest(path)
    if manifest.get("format") != "lantern-partner-package/1":
        raise InputError(path, _("unknown package format {f!r}").format(f=manifest.get("format")))
    for name, info in manifest["layers"].items():
        try:
            frame = pyogrio.read_dataframe(path, layer=name, fid_as_index=info["form"] == "features")
        except Exception as exc:  # noqa: BLE001 - any read failure means the package is damaged
            raise InputError(path, _("layer {name} cannot be read ({e})").format(name=name, e=exc)) from None
        if "geometry" in frame.columns and frame.geometry.crs is not None:
            frame = frame.to_crs(4326)
        if info["form"] == "features":
            frame.index.name = "fid"
        if layer_hash(frame) != info["sha256"]:
            raise InputError(path, _("layer {name} does not match its hash in the manifest: the package was "
                                     "altered or damaged; nothing was imported").format(name=name))
    return manifest


def import_package(workspace, path: str | Path):
    """Add a verified package's layers to the workspace as read-only partner tables."""
    import pyogrio

    path = Path(path)
    manifest = verify(path)
    origin = manifest["municipality"]
    prefix = f"{PREFIX}{_slug(origin)}_"
    existing = set(workspace.db.table_names())
    tables = [prefix + name for name in manifest["layers"]]
    clash = [t for t in tables if t in existing]
    if clash:
        shown = ", ".join(clash[:3]) + (" …" if len(clash) > 3 else "")
        raise InputError(path, _("this partner's layers are already in the workspace ({t}); nothing was "
                                 "overwritten").format(t=shown))
    target = workspace.path
    workspace.db.close()
    try:
        for name, table in zip(manifest["layers"], tables):
            frame = pyogrio.read_dataframe(path, layer=name)
            pyogrio.write_dataframe(frame, target, layer=table, driver="GPKG", append=True)
    finally:
        from layers.workspace import _connect

        workspace.db = _connect(target)
    for name, table in zip(manifest["layers"], tables):
        label = manifest["layers"][name]["label"]
        workspace.set_partner_layer(table, f"Partner: {origin} — {label} ({manifest['profile']}, "
                                           f"{manifest['created'][:10]})")
    with workspace.atomic() as db:
        from audit import changelog

        changelog.append(db, author="", action="import package", table="*", row_id=None, before=None,
                         after={"origin": origin, "profile": manifest["profile"], "tables": tables,
                                "file": path.name})
    return PackageReport(origin, manifest["profile"], tables)
