"""Registered, transactional schema migrations of the workspace file.

Each migration is a function of a sqlite3 connection, registered under the
schema version it produces. ``migrate`` applies the pending ones in order,
each in its own transaction, and records the new version; a failing
migration rolls back and leaves the file at the previous version.
"""
from __future__ import annotations

import sqlite3
from typing import Callable

import sqlite_utils

Migration = Callable[[sqlite_utils.Database], None]
_MIGRATIONS: dict[int, Migration] = {}

META_TABLE = "workspace_meta"
LAYER_INFO_TABLE = "layer_info"
#: vector tiles of the map (layers/tiles.py): derived data, made again from the layers at will. Created at the
#: first build (no schema change); kept out of the change log, the check's row comparison and every export.
TILES_TABLE = "lantern_tiles"
TILES_STATE_TABLE = "lantern_tiles_state"
#: QGIS's table of layer styles (layers/qgis_styles.py): Lantern writes its default styles from the catalogue,
#: made again at will like the tiles (a user's own styles saved there from QGIS are kept)
STYLES_TABLE = "layer_styles"
DERIVED_TABLES = frozenset({TILES_TABLE, TILES_STATE_TABLE, STYLES_TABLE})


def migration(version: int):
    """Register ``fn`` as the step that brings a workspace to ``version``."""

    def register(fn: Migration) -> Migration:
        if version in _MIGRATIONS:
            raise ValueError(f"two migrations for schema version {version}")
        _MIGRATIONS[version] = fn
        return fn

    return register


def latest_version() -> int:
    return max(_MIGRATIONS)


def register_attributes_table(conn: sqlite3.Connection, table: str, description: str = "") -> None:
    """Declare a non-spatial table in gpkg_contents, as the GeoPackage spec asks."""
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, srs_id)"
        " VALUES (?, 'attributes', ?, ?, NULL)",
        (table, table, description),
    )


def set_meta(db: sqlite_utils.Database, key: str, value: str) -> None:
    db.conn.execute(
        f"INSERT INTO {META_TABLE} (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, str(value)),
    )


def current_version(conn: sqlite3.Connection) -> int:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (META_TABLE,)
    ).fetchone()
    if not exists:
        return 0
    row = conn.execute(f"SELECT value FROM {META_TABLE} WHERE key='schema_version'").fetchone()
    return int(row[0]) if row else 0


def migrate(db: sqlite_utils.Database) -> list[int]:
    """Apply pending migrations; returns the versions applied."""
    applied = []
    for version in sorted(v for v in _MIGRATIONS if v > current_version(db.conn)):
        with db.atomic():  # one transaction per step: all of it or none of it
            _MIGRATIONS[version](db)
            set_meta(db, "schema_version", str(version))
        applied.append(version)
    return applied


@migration(1)
def _create_metadata_tables(db: sqlite_utils.Database) -> None:
    # GeoPackage requirement 119: attributes tables have an INTEGER PRIMARY KEY;
    # the natural keys get a UNIQUE index instead.
    conn = db.conn
    db[META_TABLE].create({"id": int, "key": str, "value": str}, pk="id", not_null={"key"}, if_not_exists=True)
    db[META_TABLE].create_index(["key"], unique=True, if_not_exists=True)
    register_attributes_table(conn, META_TABLE, "Lantern workspace metadata")
    db[LAYER_INFO_TABLE].create(
        {"id": int, "table_name": str, "synthetic": int, "source": str, "updated": str},
        pk="id",
        not_null={"table_name"},
        if_not_exists=True,
    )
    db[LAYER_INFO_TABLE].create_index(["table_name"], unique=True, if_not_exists=True)
    register_attributes_table(conn, LAYER_INFO_TABLE, "Origin of each layer's data")


_PLACE_TABLES = ("transport_hubs", "worksites", "shelters", "places_of_concern")


def _set_declared_type(conn, table: str, column: str, old: str, new: str) -> bool:
    """Change a column's declared SQL type (whether it was changed). SQLite cannot ALTER a column's type;
    its documented procedure edits the schema text and bumps schema_version. Safe for the changes made
    here (a geometry blob's type; TEXT to DATE/DATETIME for ISO dates, which stay text under the NUMERIC
    affinity): the stored values do not change, and no index covers these columns."""
    row = conn.execute("SELECT sql FROM sqlite_master WHERE type='table' AND name=?", (table,)).fetchone()
    old_decl, new_decl = f'"{column}" {old}', f'"{column}" {new}'
    if row is None or old_decl not in row[0]:
        return False
    version = conn.execute("PRAGMA schema_version").fetchone()[0]
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute(
        "UPDATE sqlite_master SET sql = ? WHERE type='table' AND name=?", (row[0].replace(old_decl, new_decl, 1), table)
    )
    conn.execute(f"PRAGMA schema_version = {version + 1}")
    conn.execute("PRAGMA writable_schema = OFF")
    return True


def _set_declared_geometry_type(conn, table: str, column: str, old: str, new: str) -> None:
    """A geometry column's declared type, as GeoPackage req 31 wants it to match gpkg_geometry_columns."""
    if _set_declared_type(conn, table, column, old, new):
        conn.execute(
            "UPDATE gpkg_geometry_columns SET geometry_type_name = ? WHERE table_name = ? AND column_name = ?",
            (new, table, column),
        )


@migration(2)
def _places_from_openstreetmap(db: sqlite_utils.Database) -> None:
    """Places may be areas (OSM closed ways and multipolygons) and keep their OSM provenance."""
    conn = db.conn
    for table in _PLACE_TABLES:
        if not db[table].exists():
            continue
        columns = set(db[table].columns_dict)
        for name, sql_type in (("osm_type", "TEXT"), ("osm_id", "INTEGER"), ("osm_tags", "TEXT")):
            if name not in columns:
                conn.execute(f'ALTER TABLE "{table}" ADD COLUMN "{name}" {sql_type}')
        _set_declared_geometry_type(conn, table, "geom", "POINT", "GEOMETRY")


ANNOTATIONS_TABLE = "annotations"
CHANGE_LOG_TABLE = "change_log"


@migration(3)
def _audit_tables(db: sqlite_utils.Database) -> None:
    """Annotations of places, and the tamper-evident change log."""
    db[ANNOTATIONS_TABLE].create(
        {"id": int, "place_table": str, "place_fid": int, "category": str, "indicators": str, "other_text": str,
         "note": str, "observed": str, "team": str, "author": str, "confidence": str, "source": str,
         "catalogue_version": int, "created": str},
        pk="id", not_null={"place_table", "place_fid", "observed"}, if_not_exists=True,
    )
    db[ANNOTATIONS_TABLE].create_index(["place_table", "place_fid"], if_not_exists=True)
    register_attributes_table(db.conn, ANNOTATIONS_TABLE, "Audit annotations of places (indicator checklists)")
    db[CHANGE_LOG_TABLE].create(
        {"id": int, "time": str, "author": str, "action": str, "table_name": str, "row_id": int,
         "before": str, "after": str, "prev_hash": str, "hash": str},
        pk="id", not_null={"time", "action", "table_name", "prev_hash", "hash"}, if_not_exists=True,
    )
    register_attributes_table(db.conn, CHANGE_LOG_TABLE, "Every change, hash-chained")


ANSWERS_TABLE = "assessment_answers"
ACTION_PLAN_TABLE = "action_plan"


@migration(4)
def _assessment_tables(db: sqlite_utils.Database) -> None:
    """The situation-assessment questionnaire and the action plan (pre-filled from the guidelines)."""
    from layers.resources import load_json

    db[ANSWERS_TABLE].create(
        {"id": int, "question_id": str, "answer_text": str, "answer_number": float, "source_institution": str,
         "answered_on": str, "confidence": str, "author": str},
        pk="id", not_null={"question_id"}, if_not_exists=True,
    )
    db[ANSWERS_TABLE].create_index(["question_id"], unique=True, if_not_exists=True)
    register_attributes_table(db.conn, ANSWERS_TABLE, "Answers to the situation-assessment questions")
    db[ACTION_PLAN_TABLE].create(
        {"id": int, "goal": str, "action": str, "actors": str, "status": str, "responsible": str, "due_date": str,
         "notes": str},
        pk="id", not_null={"goal", "action"}, if_not_exists=True,
    )
    register_attributes_table(db.conn, ACTION_PLAN_TABLE, "The action plan: goals, actions, actors")
    if db[ACTION_PLAN_TABLE].count == 0:
        for item in load_json("action_plan.json")["items"]:
            db.conn.execute(
                f"INSERT INTO {ACTION_PLAN_TABLE} (goal, action, actors, status) VALUES (?, ?, ?, 'planned')",
                (item["goal"], item["action"], item["actors"]),
            )


SIGNERS_TABLE = "change_log_signers"


@migration(5)
def _signed_history(db: sqlite_utils.Database) -> None:
    """Signed history: every change-log entry records its rows' hashes and is signed (layers.history_store).

    Adds the entry columns and the table of signers' public keys, then writes
    one signed *baseline* entry with the hash of every row that exists now, so
    rows from before history recorded them are not taken for outside edits.
    """
    conn = db.conn
    columns = {r[1] for r in conn.execute(f"PRAGMA table_info({CHANGE_LOG_TABLE})")}
    for name in ("row_hashes", "signer", "signature"):
        if name not in columns:
            conn.execute(f"ALTER TABLE {CHANGE_LOG_TABLE} ADD COLUMN {name} TEXT")
    db[SIGNERS_TABLE].create(
        {"id": int, "public_key": str, "fingerprint": str, "first_entry": int, "added": str},
        pk="id", not_null={"public_key"}, if_not_exists=True,
    )
    db[SIGNERS_TABLE].create_index(["public_key"], unique=True, if_not_exists=True)
    register_attributes_table(conn, SIGNERS_TABLE, "Public keys of everyone who has signed this workspace's history")
    from layers import history_store  # imported here: the store itself imports this module

    history_store.record_baseline(db, note="rows as they were when signed history began")


ESTIMATES_TABLE = "risk_group_estimates"


@migration(6)
def _guidelines_in_full(db: sqlite_utils.Database) -> None:
    """The guidelines in full: the estimates' origin breakdown, the questionnaire and action plan of version 2.

    - ``risk_group_estimates`` gains ``origin_breakdown`` (empty in old rows: their hashes do not change);
    - answers stored under a version-1 question id are moved to today's id (the catalogue's ``renamed``
      map), so no answer is lost;
    - ``action_plan`` gains ``item_id`` (set on the actions added here; rows pre-filled by migration 4 are
      known by their English text, see audit.assessment.plan_item_text): statuses, notes and dates stay,
      and the actions added in version 2 are appended. A new workspace gets no entry at all.

    The rows it writes are recorded in one signed change-log entry (action ``baseline``, as for any rows
    Lantern itself writes outside the command path), naming what was moved and added.
    """
    from layers import history_store
    from layers.resources import load_json

    conn = db.conn
    if db[ESTIMATES_TABLE].exists() and "origin_breakdown" not in db[ESTIMATES_TABLE].columns_dict:
        conn.execute(f'ALTER TABLE "{ESTIMATES_TABLE}" ADD COLUMN "origin_breakdown" TEXT')

    changed: dict[str, list[int]] = {ANSWERS_TABLE: [], ACTION_PLAN_TABLE: []}
    done: dict[str, dict] = {"renamed_answers": {}, "plan_items_added": []}

    questions = load_json("assessment_questions.json")
    renamed = questions["renamed"]["ids"] if questions["renamed"]["from_version"] == 1 else {}
    if db[ANSWERS_TABLE].exists():
        for row_id, qid in conn.execute(f"SELECT id, question_id FROM {ANSWERS_TABLE} ORDER BY id").fetchall():
            if qid in renamed:
                conn.execute(f"UPDATE {ANSWERS_TABLE} SET question_id = ? WHERE id = ?", (renamed[qid], row_id))
                changed[ANSWERS_TABLE].append(row_id)
                done["renamed_answers"][qid] = renamed[qid]
    set_meta(db, "questionnaire_version", str(questions["version"]))

    plan = load_json("action_plan.json")
    if db[ACTION_PLAN_TABLE].exists():
        if "item_id" not in db[ACTION_PLAN_TABLE].columns_dict:
            conn.execute(f"ALTER TABLE {ACTION_PLAN_TABLE} ADD COLUMN item_id TEXT")
        by_text = {(i["goal"], i["action"]): i["id"] for i in plan["items"]}
        present = {r[0] for r in conn.execute(f"SELECT item_id FROM {ACTION_PLAN_TABLE} WHERE item_id IS NOT NULL")}
        # rows pre-filled by migration 4 are known by their English text (matched again when read, so
        # nothing is rewritten here and their hashes stay); only the actions they lack are added
        for goal, action in conn.execute(f"SELECT goal, action FROM {ACTION_PLAN_TABLE} WHERE item_id IS NULL"):
            if (goal, action) in by_text:
                present.add(by_text[(goal, action)])
        for item in plan["items"]:
            if item["id"] in present:
                continue
            cursor = conn.execute(
                f"INSERT INTO {ACTION_PLAN_TABLE} (goal, action, actors, status, item_id) VALUES (?, ?, ?, 'planned', ?)",
                (item["goal"], item["action"], item["actors"], item["id"]),
            )
            changed[ACTION_PLAN_TABLE].append(cursor.lastrowid)
            done["plan_items_added"].append(item["id"])
    set_meta(db, "action_plan_version", str(plan["version"]))
    rows = {t: ids for t, ids in changed.items() if ids}
    if rows and history_store.table_exists(conn, CHANGE_LOG_TABLE):
        history_store.append(db, author="Lantern", action="baseline", table="*", row_id=None, before=None,
                             after={"tables": sorted(rows), "note": "migration 6: questionnaire and action plan of "
                                    "the guidelines in full", **{k: v for k, v in done.items() if v}}, rows=rows)


#: dates of the attributes tables, declared DATE or DATETIME (GeoPackage's date types) so GIS programs read
#: them as dates; the values were ISO 8601 text before and stay so. Times written as ``+00:00`` (the change
#: log's, an annotation's ``created``, a signer's ``added``) stay TEXT: GeoPackage's DATETIME is
#: ``…SS.SSSZ``, and rewriting them would change rows the signed log describes.
DATE_COLUMNS = {
    ANNOTATIONS_TABLE: {"observed": "DATE"},
    ANSWERS_TABLE: {"answered_on": "DATE"},
    ACTION_PLAN_TABLE: {"due_date": "DATE"},
    LAYER_INFO_TABLE: {"updated": "DATETIME"},
}


def fit_kind_table(db: sqlite_utils.Database, k) -> list[int]:
    """Give a layer table the storage of schema 7: a place kind stores its position as POINT and its area
    in ``outline`` (layers.place_outline), copied to its outline table; ``date`` fields are declared DATE.
    Idempotent; returns the fids whose rows changed (areas moved to the outline)."""
    from layers import place_outline

    conn = db.conn
    for f in k.fields:  # first: the outline copy repeats the declared types
        if f.type == "date":
            _set_declared_type(conn, k.id, f.name, "TEXT", "DATE")
    if not place_outline.has_outline(k):
        return []
    place_outline.add_outline_column(conn, k)
    moved = place_outline.move_areas_to_outline(conn, k)
    _set_declared_geometry_type(conn, k.id, "geom", "GEOMETRY", "POINT")
    place_outline.create_outline_table(conn, k)
    return moved


@migration(7)
def _one_geometry_type_and_dates(db: sqlite_utils.Database) -> None:
    """Every layer one geometry type, and dates declared as dates, so QGIS and GDAL read what Lantern means.

    Places mapped as areas keep their area as ``outline`` and get a point on it as their position (the
    rows change, so one signed baseline entry of the change log names them, as migration 6 does).
    """
    from layers import history_store
    from layers.catalogue import layer_kinds

    conn = db.conn
    rows = {}
    for k in layer_kinds().values():
        if db[k.id].exists():
            moved = fit_kind_table(db, k)
            if moved:
                rows[k.id] = moved
    for table, columns in DATE_COLUMNS.items():
        for column, sql_type in columns.items():
            _set_declared_type(conn, table, column, "TEXT", sql_type)
    if rows and history_store.table_exists(conn, CHANGE_LOG_TABLE):
        history_store.append(db, author="Lantern", action="baseline", table="*", row_id=None, before=None,
                             after={"tables": sorted(rows), "note": "migration 7: places mapped as areas keep "
                                    "their area as the outline and get a point on it as their position"}, rows=rows)
    write_qgis_metadata(db)


def write_qgis_metadata(db: sqlite_utils.Database, language: str | None = None) -> None:
    """QGIS's view of the workspace in the user's language: a default style for every layer
    (layer_styles), field aliases and value lists (gpkg_data_columns and their enum constraints)."""
    from layers import data_columns, i18n, qgis_styles

    language = language or i18n.language()
    qgis_styles.write_layer_styles(db.conn, language)
    data_columns.write_data_columns(db.conn, language)
    set_meta(db, "qgis_language", language)


SUBMISSIONS_TABLE = "incoming_submissions"
PHOTOS_TABLE = "submission_photos"


@migration(8)
def _incoming_submissions(db: sqlite_utils.Database) -> None:
    """The *Incoming* queue of field submissions (ODK Central, KoBoToolbox) and their cleaned photos.

    Submissions wait here for a reviewer; nothing reaches the audit until one is accepted (audit.submissions).
    Both tables are confidential (data/sensitivity.json names no profile for them): photos and unreviewed
    notes never leave the workspace. They are registered attributes tables, so the change log describes
    their rows like any other data (one signed entry per import, one per review step).
    """
    db[SUBMISSIONS_TABLE].create(
        {"id": int, "instance_id": str, "source": str, "received": str, "submitted": str, "form_id": str,
         "form_version": str, "catalogue_version": int, "lon": float, "lat": float, "place_key": str,
         "new_place_name": str, "place_type": str, "indicators": str, "unmapped": str, "other_text": str,
         "note": str, "observed": str, "team": str, "author": str, "confidence": str, "source_of_information": str,
         "status": str, "reason": str, "annotation_id": int, "decided": str, "decided_by": str},
        pk="id", not_null={"instance_id", "status"}, if_not_exists=True,
    )
    db[SUBMISSIONS_TABLE].create_index(["instance_id"], unique=True, if_not_exists=True)
    db[SUBMISSIONS_TABLE].create_index(["status"], if_not_exists=True)
    _set_declared_type(db.conn, SUBMISSIONS_TABLE, "observed", "TEXT", "DATE")
    register_attributes_table(db.conn, SUBMISSIONS_TABLE, "Field submissions waiting for review (confidential)")
    db[PHOTOS_TABLE].create(
        {"id": int, "instance_id": str, "name": str, "mime": str, "data": bytes, "bytes": int},
        pk="id", not_null={"instance_id"}, if_not_exists=True,
    )
    db[PHOTOS_TABLE].create_index(["instance_id"], if_not_exists=True)
    register_attributes_table(db.conn, PHOTOS_TABLE, "Photos of field submissions, metadata stripped (confidential)")


ROUNDS_TABLE = "audit_rounds"
CAMPAIGNS_TABLE = "campaigns"
CAMPAIGN_SITES_TABLE = "campaign_locations"  # not "campaign_sites": the outreach plan's derived layer
CONTACTS_TABLE = "service_contacts"
ACTORS_TABLE = "local_actors"
FIRST_ROUND_NAME = "Round 1"  # the round a migration gives the annotations and estimates made before rounds


def _working_over_time_tables(db: sqlite_utils.Database) -> None:
    """Tables of migration 9. Lists (teams, audiences, languages, ...) are JSON arrays of catalogue ids; areas
    are GeoJSON geometries in EPSG:4326 (NULL: the whole district / derived, see audit.campaigns)."""
    tables = {
        ROUNDS_TABLE: ({"id": int, "name": str, "starts": str, "ends": str, "teams": str, "area": str, "notes": str,
                        "created": str}, {"name"}, "Audit rounds: one pass over the district"),
        CAMPAIGNS_TABLE: ({"id": int, "name": str, "starts": str, "ends": str, "audiences": str, "languages": str,
                           "materials": str, "channels": str, "people_reached": int, "leaflets": int, "events": int,
                           "action_items": str, "catchment": str, "comparison_area": str, "notes": str,
                           "created": str}, {"name"}, "Prevention campaigns: audiences, materials, sites, reach"),
        CAMPAIGN_SITES_TABLE: ({"id": int, "campaign_id": int, "name": str, "lon": float, "lat": float,
                                "source": str, "place_table": str, "place_fid": int}, {"campaign_id"},
                               "Where each campaign reaches people"),
        CONTACTS_TABLE: ({"id": int, "month": str, "channel": str, "area_table": str, "area_fid": int,
                          "area_name": str, "count": int, "source": str}, {"month", "channel", "count"},
                         "Hotline and service contacts per month and area or service (counts, no personal data)"),
        ACTORS_TABLE: ({"id": int, "name": str, "sector": str, "roles": str, "contact_point": str,
                        "contact_phone": str, "contact_email": str, "address": str, "lon": float, "lat": float,
                        "agreement_date": str, "agreement_scope": str, "agreement_renewal": str, "staff": int,
                        "staff_trained": int, "trained_on": str, "training_needs": str, "service_fid": int,
                        "notes": str}, {"name", "sector"}, "The local network of actors who identify and help victims"),
    }
    for table, (columns, not_null, description) in tables.items():
        db[table].create(columns, pk="id", not_null=not_null, if_not_exists=True)
        register_attributes_table(db.conn, table, description)
    db[CAMPAIGN_SITES_TABLE].create_index(["campaign_id"], if_not_exists=True)
    db[CONTACTS_TABLE].create_index(["month", "channel"], if_not_exists=True)
    for table, column in ((ROUNDS_TABLE, "starts"), (ROUNDS_TABLE, "ends"), (CAMPAIGNS_TABLE, "starts"),
                          (CAMPAIGNS_TABLE, "ends"), (ACTORS_TABLE, "agreement_date"),
                          (ACTORS_TABLE, "agreement_renewal"), (ACTORS_TABLE, "trained_on")):
        _set_declared_type(db.conn, table, column, "TEXT", "DATE")


def _first_round(db: sqlite_utils.Database) -> dict[str, list[int]]:
    """Give every annotation and estimate a round: the rows made before rounds existed go to a first round
    spanning their dates. Returns the rows changed by table."""
    conn = db.conn
    dated = {ANNOTATIONS_TABLE: "observed", ESTIMATES_TABLE: "estimated_on"}
    present = {t: c for t, c in dated.items() if db[t].exists()}
    for table in present:
        if "round_id" not in db[table].columns_dict:
            conn.execute(f'ALTER TABLE "{table}" ADD COLUMN round_id INTEGER')
    rows = {t: [r[0] for r in conn.execute(f'SELECT {"fid" if t == ESTIMATES_TABLE else "id"} FROM "{t}" '
                                             f"WHERE round_id IS NULL")] for t in present}
    if not any(rows.values()):
        return {}
    dates = [d for t, c in present.items() for (d,) in conn.execute(f'SELECT "{c}" FROM "{t}" WHERE "{c}" IS NOT NULL')]
    round_id = conn.execute(f"INSERT INTO {ROUNDS_TABLE} (name, starts, ends, teams, created) VALUES (?, ?, ?, '[]', ?)",
                            (FIRST_ROUND_NAME, min(dates)[:10] if dates else None, max(dates)[:10] if dates else None,
                             _now())).lastrowid
    for table in present:
        conn.execute(f'UPDATE "{table}" SET round_id = ? WHERE round_id IS NULL', (round_id,))
    return {ROUNDS_TABLE: [round_id], **{t: ids for t, ids in rows.items() if ids}}


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@migration(9)
def _working_over_time(db: sqlite_utils.Database) -> None:
    """Working over time (issue 18): audit rounds, campaigns and their sites, monthly contacts, local actors.

    Annotations and risk-group estimates gain ``round_id``; those that exist go to a first round spanning their
    dates, recorded in one signed change-log entry (action ``baseline``) naming the rows it changed, so the
    log stays verifiable.
    """
    from layers import history_store

    _working_over_time_tables(db)
    changed = _first_round(db)
    if changed and history_store.table_exists(db.conn, CHANGE_LOG_TABLE):
        history_store.append(db, author="Lantern", action="baseline", table="*", row_id=None, before=None,
                             after={"tables": sorted(changed), "note": "migration 9: existing annotations and "
                                    "estimates belong to the first audit round"}, rows=changed)
