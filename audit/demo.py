"""The demo district: real central Helsinki from OpenStreetMap, plus synthetic audit data.

Places and the offline basemap come from the real OSM extract bundled as
data/osm/Helsinki.osm.pbf (© OpenStreetMap contributors, ODbL). Reported cases and risk areas are SYNTHETIC: generated with a fixed
seed near the kinds of places where the guidelines say exploitation happens
(cases 40–120 m away from any real place, so no real business is implied),
and labelled synthetic in the layer panel and on the map. The result is
cached in the user's data directory and rebuilt when its inputs change or
when the cached file no longer matches the digest written beside it. The app
never opens the cache itself: each start (and File → Reset demo) opens a
fresh copy in a temporary folder, so experiments made in the demo are gone
the next time.
"""
from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from audit.annotations import annotate, annotation_values, new_place_with_annotation
from audit.changelog import record_baseline
from audit.commands import History
from audit.demo_actors import add_synthetic_actors
from audit.estimates import record_estimate
from layers import migrations
from layers.catalogue import kind as get_kind
from layers.crs import metric_crs
from layers.features import prepare
from layers.files import sibling_temp
from layers.i18n import N_, _, catalogue_source, language
from layers.resources import load_json, resource_path
from layers.workspace import Workspace

DEMO_NAME = N_("Central Helsinki — demo (real OSM places; synthetic cases, risk areas, annotations and estimates)")
SEED = 20261128
DEMO_VERSION = 9  # bump when the generator below changes, so cached demos are rebuilt
SYNTHETIC_LAYERS = ("reported_cases", "risk_areas")

# Where the synthetic cases of each form are placed: (layer, field, values) of real places nearby.
_ANCHORS = {
    "sexual": [("worksites", "sector", ("nightlife", "hotel", "beauty_massage"))],
    "labour": [("worksites", "sector", ("restaurant", "construction", "cleaning", "hotel", "car_wash"))],
    "begging": [("transport_hubs", None, None), ("places_of_concern", "category", ("gathering_place",))],
    "criminality": [("transport_hubs", None, None), ("places_of_concern", "category", ("migrant_commerce",))],
    "domestic_servitude": [("basemap_buildings", None, None)],
    "benefit_fraud": [("places_of_concern", "category", ("migrant_commerce", "free_internet"))],
}
_CASE_FORMS = ["labour"] * 12 + ["sexual"] * 10 + ["begging"] * 5 + ["criminality"] * 4 + [
    "domestic_servitude"] * 3 + ["benefit_fraud"] * 2
# One hotspot near the railway station, dense enough (at least 5 in a 250 m cell) for partner maps to show a count.
_HOTSPOT = (("transport_hubs", "hub_type", ("railway_station",)), ["begging"] * 4 + ["criminality"] * 3 + ["labour"] * 2)

# Risk areas: around which kind of place, which forms, and a neutral description.
_AREAS = [
    ("transport_hubs", "hub_type", ("railway_station",), ["begging", "criminality"], N_("around the railway station")),
    ("transport_hubs", "hub_type", ("ferry_terminal",), ["labour", "sexual"], N_("around the ferry terminal")),
    ("transport_hubs", "hub_type", ("metro_station",), ["begging"], N_("around a metro station")),
    ("worksites", "sector", ("nightlife",), ["sexual"], N_("nightlife streets")),
    ("worksites", "sector", ("hotel",), ["sexual", "labour"], N_("hotel block")),
    ("worksites", "sector", ("restaurant",), ["labour"], N_("restaurant street")),
    ("worksites", "sector", ("construction",), ["labour"], N_("construction area")),
    ("places_of_concern", "category", ("gathering_place",), ["begging", "sexual"], N_("park")),
    ("places_of_concern", "category", ("migrant_commerce",), ["labour", "benefit_fraud"], N_("market and shops")),
    ("worksites", "sector", ("beauty_massage",), ["sexual"], N_("salons")),
]


def _candidates(frames: dict, layer: str, field: str | None, values) -> np.ndarray:
    frame = frames[layer]
    if field is not None:
        frame = frame[frame[field].isin(values)]
    return np.array([(p.x, p.y) for p in frame.geometry.representative_point()]).reshape(-1, 2)


def _offset(rng, point, min_m: float, max_m: float) -> tuple[float, float]:
    angle = rng.uniform(0, 2 * np.pi)
    dist = rng.uniform(min_m, max_m)
    return point[0] + dist * np.cos(angle), point[1] + dist * np.sin(angle)


def _synthetic_cases(rng, frames: dict):
    import geopandas as gpd
    import shapely

    rows, points = [], []
    station = _candidates(frames, *_HOTSPOT[0])
    placed = [(form, None) for form in _CASE_FORMS]
    if len(station):
        placed += [(form, station[0]) for form in _HOTSPOT[1]]
    for form, fixed in placed:
        pools = [_candidates(frames, *anchor) for anchor in _ANCHORS[form]]
        pool = np.vstack([p for p in pools if len(p)]) if any(len(p) for p in pools) else None
        if pool is None:
            continue
        anchor = fixed if fixed is not None else pool[rng.integers(len(pool))]
        points.append(shapely.Point(_offset(rng, anchor, 40, 120) if fixed is None else _offset(rng, anchor, 20, 60)))
        extra = [] if rng.random() > 0.2 else [rng.choice(["labour", "criminality", "benefit_fraud"])]
        rows.append({
            "reported": f"{rng.choice([2024, 2025, 2026])}-{int(rng.integers(1, 11)):02d}",
            "forms": ";".join(dict.fromkeys([form, *extra])),
            "sex": rng.choice(["female", "female", "male", "unknown"] if form == "sexual" else ["male", "female", "unknown"]),
            "age_band": rng.choice(["14-17", "18-24", "25-34", "35-49", "unknown"]),
            "nationality_group": rng.choice(["national", "eu", "non_eu", "non_eu", "unknown"]),
            "status": rng.choice(["potential", "potential", "identified"]),
            "source": rng.choice(["police", "ngo", "social_services", "hotline", "inspection"]),
            "referral_made": bool(rng.random() < 0.6),
        })
    return gpd.GeoDataFrame(rows, geometry=points, crs=frames["worksites"].crs)


def _synthetic_areas(rng, frames: dict):
    import geopandas as gpd
    import shapely

    rows, shapes = [], []
    for layer, field, values, forms, where in _AREAS:
        pool = _candidates(frames, layer, field, values)
        if not len(pool):
            continue
        centre = pool[rng.integers(len(pool))]
        blobs = [shapely.Point(_offset(rng, centre, 0, 60)).buffer(rng.uniform(45, 90)) for _ in range(4)]
        shapes.append(shapely.union_all(blobs).simplify(8))
        rows.append({
            "name": _("Synthetic risk area {n}: {where}").format(n=len(rows) + 1, where=_(where)),
            "forms": ";".join(forms),
            "description": _("Synthetic: invented for the demo, not an assessment of a real place."),
        })
    return gpd.GeoDataFrame(rows, geometry=shapes, crs=frames["worksites"].crs)


# The demo's layer sources, stored in English and shown translated (mapping/report.source_name).
SYNTHETIC_SOURCE = N_("synthetic demo data")
SERVICES_SOURCE = N_("national contact list and synthetic demo data")
SOURCE_NAMES = {SYNTHETIC_SOURCE: SYNTHETIC_SOURCE, SERVICES_SOURCE: SERVICES_SOURCE,
                "national contacts (DOMAIN.md) and synthetic demo data": SERVICES_SOURCE}  # earlier demos'


def add_synthetic_audit_data(ws: Workspace, seed: int = SEED) -> None:
    """Generate synthetic reported cases and risk areas near the workspace's real places."""
    rng = np.random.default_rng(seed)
    sources = {k: ws.read_layer(k) for k in ("transport_hubs", "worksites", "places_of_concern", "basemap_buildings")}
    metric = metric_crs(sources["worksites"])
    frames = {k: f.to_crs(metric) for k, f in sources.items()}
    generated = {"risk_areas": _synthetic_areas(rng, frames), "reported_cases": _synthetic_cases(rng, frames)}
    with ws.atomic():
        for kind_id, frame in generated.items():
            prepared = prepare(f"synthetic {kind_id}", frame.to_crs(4326), get_kind(kind_id))
            ws.insert_rows(kind_id, prepared.rows, prepared.geometries)
            ws.set_layer_info(kind_id, synthetic=True, source=SYNTHETIC_SOURCE)
        ws.set_metadata("synthetic", "reported_cases, risk_areas")


# Synthetic annotated places: (where, category, [(days ago, indicators, confidence, note)])
_ANNOTATED = [
    (N_("around the railway station"), "street_activity",
     [(20, ["beg_forced", "beg_hands_over", "gen_minor"], "high", N_("Group of young people begging, collected by a car.")),
      (200, ["beg_vulnerable"], "medium", N_("Begging near the entrance in the evening."))]),
    (N_("nightlife streets"), "street_activity",
     [(35, ["sex_pimp", "sex_only_sex_words", "gen_controlled"], "medium", N_("Women accompanied at all times.")),
      (400, ["sex_cheap_unprotected"], "low", N_("Reported by an outreach worker."))]),
    (N_("hotel block"), "street_activity",
     [(60, ["acc_odd_hours_pickup", "gen_trauma_signs"], "medium", N_("Minibus picks up cleaners at 5 a.m."))]),
    (N_("restaurant street"), "migrant_commerce",
     [(15, ["lab_long_hours", "lab_lives_with_employer", "lab_passport_held"], "high", N_("Kitchen staff sleep above.")),
      (120, ["lab_low_pay"], "medium", N_("Workers say pay is irregular."))]),
    (N_("construction area"), "construction_site",
     [(90, ["lab_unsafe", "lab_no_contract", "gen_no_local_language"], "medium", N_("No helmets; no one speaks Finnish."))]),
    (N_("market and shops"), "migrant_commerce",
     [(500, ["gen_no_local_language"], "low", N_("One-off observation."))]),
    (N_("park"), "gathering_place",
     [(10, ["gen_minor"], "low", N_("Young people approached by adults at night."))]),
]
_ESTIMATES = [  # (where, group, estimate, female, male)
    (N_("around the railway station"), "begging_crime", 25, 8, 17),
    (N_("around the railway station"), "homeless", 60, 15, 45),
    (N_("nightlife streets"), "prostitution", 40, 34, 6),
    (N_("hotel block"), "prostitution", 15, 13, 2),
    (N_("restaurant street"), "migrant_workers", 120, 50, 70),
    (N_("construction area"), "migrant_workers", 200, 10, 190),
    (N_("market and shops"), "migrant_workers", 80, 30, 50),
    (N_("park"), "homeless", 30, 8, 22),
]


def add_synthetic_annotations(ws: Workspace, seed: int = SEED) -> None:
    """Synthetic places of concern with annotations, and risk-group estimates for some risk areas,
    recorded through the audit's command path (so the change log shows them too)."""
    import datetime as dt

    import shapely

    rng = np.random.default_rng(seed + 1)
    areas = ws.read_layer("risk_areas")
    where = {name.split(": ", 1)[-1]: geom for name, geom in zip(areas["name"], areas.geometry)}
    today = dt.date.today()
    history = History(ws, author=_("Demo auditor A (synthetic)"))
    from audit.rounds import add_round

    team = [_("Demo audit team (synthetic)")]  # two rounds, so "Compare rounds" and the report show change
    history.do(add_round(ws, _("Round 1 (synthetic)"), today - dt.timedelta(days=540),
                         today - dt.timedelta(days=151), team))
    history.do(add_round(ws, _("Round 2 (synthetic)"), today - dt.timedelta(days=150), today, team))
    for n, (place, category, observations) in enumerate(_ANNOTATED, start=1):
        place = _(place)
        if place not in where:
            continue
        point = where[place].representative_point()
        point = shapely.Point(point.x + rng.uniform(-2e-4, 2e-4), point.y + rng.uniform(-1e-4, 1e-4))
        first, *later = observations
        authors = [_("Demo auditor A (synthetic)"), _("Demo auditor B (synthetic)")]

        def values(obs, fid, k):
            days, seen, confidence, note = obs
            return annotation_values(
                "places_of_concern", fid, indicators_seen=seen, observed=(today - dt.timedelta(days=days)).isoformat(),
                confidence=confidence, source="own_observation" if k % 2 == 0 else "ngo", author=authors[k % 2],
                team=_("Demo audit team (synthetic)"), note=_("[Synthetic] {note}").format(note=_(note)),
                category=category)

        macro = history.do(new_place_with_annotation(
            "places_of_concern", point.x, point.y,
            {"name": _("Synthetic place {n}: {where}").format(n=n, where=place), "category": category,
             "description": _("Synthetic: invented for the demo.")},
            values(first, None, 0)))
        fid = macro.commands[0].row_id
        for k, obs in enumerate(later, start=1):
            history.do(annotate(values(obs, fid, k)))
    for place, group, estimate, female, male in _ESTIMATES:
        place = _(place)
        if place in where:
            history.do(record_estimate(where[place], {
                "risk_group": group, "estimate": estimate, "female": female, "male": male,
                "source_institution": _("Synthetic demo source"), "confidence": "medium", "area_name": place,
                "estimated_on": (today - dt.timedelta(days=int(rng.integers(30, 300)))).isoformat()}))
    ws.set_layer_info("risk_group_estimates", synthetic=True, source=SYNTHETIC_SOURCE)


_SERVICES = [  # synthetic local services: (type, assistance, sexes, ages, forms, languages, hours, undocumented)
    ("crisis_centre", "crisis_intervention;safe_place;risk_assessment", "", "", "", "fi, sv, en", "24/7", True),
    ("social_services", "referral;long_term;integration", "", "adults", "", "fi, sv, en, ru", "Mo-Fr 08:00-16:00", False),
    ("clinic_undocumented", "crisis_intervention", "", "", "", "fi, en, ar, so", "Mo-Fr 16:00-20:00", True),
    ("legal_aid", "long_term;return", "", "adults", "labour;sexual", "fi, en", "Mo-Th 09:00-15:00", True),
    ("ngo", "hotline;referral;crisis_intervention", "female", "", "sexual;domestic_servitude", "fi, en, ru, et", "24/7", True),
    ("migrant_org", "integration;referral", "", "", "labour", "en, ar, fa, so", "Tu-Sa 12:00-18:00", True),
    ("shelter", "safe_place;crisis_intervention", "", "minors", "", "fi, sv, en", "24/7", True),
]


def add_services(ws: Workspace, seed: int = SEED) -> None:
    """The Latvian national contacts (no positions) and synthetic local services (labelled so)."""
    import geopandas as gpd
    import shapely

    from layers.importers import import_file

    with resource_path("examples/services_lv.geojson") as file:
        import_file(ws, file, "services")
    rng = np.random.default_rng(seed + 2)
    bounds = ws.read_layer("worksites").total_bounds
    rows, points = [], []
    for n, (kind_, assist, sexes, ages, forms, langs, hours, undoc) in enumerate(_SERVICES, start=1):
        points.append(shapely.Point(rng.uniform(bounds[0], bounds[2]), rng.uniform(bounds[1], bounds[3])))
        rows.append({"name": _("Synthetic service {n}").format(n=n), "service_type": kind_, "assistance": assist,
                     "serves_sex": sexes, "serves_ages": ages, "serves_forms": forms, "languages": langs,
                     "hours": hours, "phone": "", "accepts_undocumented": undoc,
                     "description": _("Synthetic: invented for the demo.")})
    prepared = prepare("synthetic services", gpd.GeoDataFrame(rows, geometry=points, crs=4326), get_kind("services"))
    with ws.atomic():
        ws.insert_rows("services", prepared.rows, prepared.geometries)
        ws.set_layer_info("services", synthetic=True, source=SERVICES_SOURCE)


def build_demo(path: str | Path, overwrite: bool = True) -> Workspace:
    """Write the demo district workspace to ``path`` (built aside, then moved into place)."""
    from layers.osm import helsinki_extract, import_osm

    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(path)
    with sibling_temp(path, prefix=".lantern-demo-") as tmp:
        import_osm(helsinki_extract(), tmp)
        with Workspace.open(tmp) as ws:
            add_synthetic_audit_data(ws)
            add_synthetic_annotations(ws)
            add_services(ws)
            add_synthetic_actors(ws)  # after the services; logged through the command path
            ws.set_metadata("name", _(DEMO_NAME))
            with ws.atomic() as db:  # the synthetic rows bypass the command path: log them
                record_baseline(db, author="Lantern demo", note="synthetic demo data",
                                tables=["reported_cases", "risk_areas", "services"])
        os.replace(tmp, path)
    return Workspace.open(path)


def _fingerprint() -> str:
    from layers.osm import helsinki_extract

    digest = hashlib.sha256()
    digest.update(f"{DEMO_VERSION}/{migrations.latest_version()}/{SEED}/{load_json('layer_kinds.json')['version']}".encode())
    digest.update(str(load_json("osm_tag_mapping.json")).encode())
    digest.update(hashlib.sha256(helsinki_extract().read_bytes()).digest())
    source = catalogue_source(language())
    if source.is_file():  # new translations: a new demo in that language
        digest.update(hashlib.sha256(source.read_bytes()).digest())
    return digest.hexdigest()[:12]


def cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("lantern", appauthor=False))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _digest_file(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _pristine(path: Path) -> bool:
    """The cached demo is as it was built (earlier versions let the app write into it)."""
    record = _digest_file(path)
    return path.is_file() and record.is_file() and record.read_text(encoding="ascii").strip() == _digest(path)


def cached_demo_path() -> Path:
    """The demo workspace in the user's data directory, built if missing, stale or changed, in the current
    language (its synthetic names and notes are written in it). Open a :func:`fresh_demo_copy`, never this."""
    path = cache_dir() / f"demo-{language()}-{_fingerprint()}.gpkg"
    if not _pristine(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        build_demo(path).close()
        _digest_file(path).write_text(_digest(path) + "\n", encoding="ascii")
    return path


#: folders of the demo copies this process made (removed when it exits)
_COPIES: list[Path] = []


def fresh_demo_copy() -> Path:
    """A new copy of the cached demo in its own temporary folder: what is changed there is gone next time."""
    source = cached_demo_path()
    folder = Path(tempfile.mkdtemp(prefix="lantern-demo-"))
    _COPIES.append(folder)
    target = folder / "demo.gpkg"
    shutil.copyfile(source, target)
    return target


def is_cached_demo(path: str | Path) -> bool:
    """``path`` is a demo in the cache (what ``--demo`` opened before fresh copies)."""
    path = Path(path)
    return path.name.startswith("demo-") and path.suffix == ".gpkg" and path.resolve().parent == cache_dir().resolve()


def is_demo_copy(path: str | Path | None) -> bool:
    """``path`` is a demo copy made by :func:`fresh_demo_copy` in this process (not worth remembering)."""
    return path is not None and Path(path).resolve().parent in {f.resolve() for f in _COPIES}


def discard_demo_copy(path: str | Path) -> None:
    """Remove a demo copy's folder once nothing has it open."""
    folder = Path(path).resolve().parent
    for kept in list(_COPIES):
        if kept.resolve() == folder:
            _COPIES.remove(kept)
            shutil.rmtree(kept, ignore_errors=True)


@atexit.register
def discard_all_copies() -> None:
    """Remove every demo copy this process made (at exit, and after tests)."""
    for folder in list(_COPIES):
        shutil.rmtree(folder, ignore_errors=True)
    _COPIES.clear()
