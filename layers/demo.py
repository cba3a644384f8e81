"""The demo district: a workspace built from the synthetic GeoJSON in data/demo.

Built through the normal import path, so the demo is also a check that
importing works. Cached in the user's data directory; rebuilt when the demo
data or the schema change.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from layers import migrations
from layers.catalogue import layer_kinds
from layers.i18n import _
from layers.importers import import_file
from layers.resources import load_json, resource, resource_path
from layers.workspace import Workspace

DEMO_NAME = "Demo district (synthetic data)"


def demo_files() -> dict[str, str]:
    """Kind id → bundled GeoJSON file name, for every kind that has demo data."""
    return {k: f"demo/{k}.geojson" for k in layer_kinds() if resource(f"demo/{k}.geojson").is_file()}


def build_demo(path: str | Path, overwrite: bool = True) -> Workspace:
    """Write the demo district workspace to ``path``."""
    ws = Workspace.create(path, name=DEMO_NAME, overwrite=overwrite)
    try:
        for kind_id, name in demo_files().items():
            with resource_path(name) as file:
                import_file(ws, file, kind_id)
            ws.set_layer_info(kind_id, synthetic=True, source=_("synthetic demo data"))
        ws.set_metadata("synthetic", "1")
    except Exception:
        ws.close()
        Path(path).unlink(missing_ok=True)
        raise
    return ws


def _fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(str(migrations.latest_version()).encode())
    digest.update(str(load_json("layer_kinds.json")["version"]).encode())
    for name in sorted(demo_files().values()):
        digest.update(resource(name).read_bytes())
    return digest.hexdigest()[:12]


def cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("lantern", appauthor=False))


def cached_demo_path() -> Path:
    """The demo workspace in the user's data directory, built if missing or stale."""
    path = cache_dir() / f"demo-{_fingerprint()}.gpkg"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        build_demo(path).close()
    return path
