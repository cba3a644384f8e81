"""Access to a shared workspace, enforced by PostgreSQL: group roles, column privileges, row-level security.

The plan (``plan``) is computed from two allow-lists: ``data/sensitivity.json`` (what each export profile may
receive, field by field) and ``data/server_roles.json`` (which profile each role reads through, and what it
writes). Anything neither names is readable by auditors and administrators only. ``apply`` turns the plan into
SQL on the server; it is idempotent and runs again after every push or migration.

Two things the database does for Lantern here: catalogue tables (``gpkg_contents`` and the like) show a role
only the rows of tables it may read, so a layer's extent or feature count does not leak through Lantern's
tables (PostgreSQL's own statistics still estimate row counts: docs/shared-workspace.md); and each read of a
table at ``police`` level or above by the police role is recorded by the row-level security policy itself,
in the server's log (which no rollback takes back) and in ``lantern_read_log``, so a read cannot happen
without its record (a read-only transaction fails instead).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from layers.resources import load_json
from layers.server_schema import (
    BLOCKS_TABLE, CHANNEL_TABLE, COLUMNS_TABLE, FILE_SCHEMA_TABLE, ROWID_COLUMN, SEQUENCE_TABLE, TOMBSTONES_TABLE,
    VERSION_COLUMN, WRITE_LOCK_TABLE, TableLayout, literal, quote,
)

PREFIX = "lantern_"
ROLE_TABLES = "lantern_role_tables"
READ_LOG = "lantern_read_log"
_LEVELS = ("public", "partner", "police", "confidential")
SERVER_TABLES = (FILE_SCHEMA_TABLE, COLUMNS_TABLE, SEQUENCE_TABLE, TOMBSTONES_TABLE, BLOCKS_TABLE,  # Lantern's own
                 WRITE_LOCK_TABLE, CHANNEL_TABLE)
POLICY_FUNCTIONS = ("lantern_may_read(text)", "lantern_log_read(text)")  # run in every role's row policies
COPY_FUNCTIONS = ("lantern_claim_block(text)",)  # for those who may take a copy (auditors, administrators)
TRIGGER_FUNCTIONS = ("lantern_tombstone()", "lantern_notify()", "lantern_chain()", "lantern_keep_key()",
                     "lantern_version()")  # fired by the server; no role may attach them to a table of its own


def pg_role(role_id: str) -> str:
    return PREFIX + role_id


@dataclass
class RoleAccess:
    role: str
    read_all: bool
    write_all: bool
    reads: dict[str, list[str] | None] = field(default_factory=dict)  # table -> readable columns (None: all)
    writes: set[str] = field(default_factory=set)
    logged: set[str] = field(default_factory=set)  # tables whose reads the database records

    @property
    def pg_role(self) -> str:
        return pg_role(self.role)


def roles_config() -> dict:
    return load_json("server_roles.json")


def _profile_columns(layout: TableLayout, share: dict) -> list[str] | None:
    """The columns a profile's share of a layer reads directly, or None when its form is computed."""
    form = share.get("form")
    if form not in ("features", "table"):
        return None
    names = [c.name for c in layout.columns]
    keep = set(share.get("fields", []))
    if form == "features":
        keep |= {layout.key} | {c.name for c in layout.columns if c.pg_type == "geometry"}
    cols = [n for n in names if n in keep]
    if not layout.own_key:
        cols.insert(0, ROWID_COLUMN)
    return cols + [VERSION_COLUMN]


def _limited_reads(profile: str, layouts: dict[str, TableLayout], config: dict) -> tuple[dict, set[str]]:
    """A profile's readable tables and columns, and which of them are at police level or above."""
    sensitivity = load_json("sensitivity.json")["layers"]
    reads: dict[str, list[str] | None] = {}
    restricted: set[str] = set()
    for table, spec in sensitivity.items():
        share = spec.get("share", {}).get(profile)
        for name in (table, table + "_outlines"):
            if share is None or name not in layouts:
                continue
            cols = _profile_columns(layouts[name], share)
            if cols is not None:
                reads[name] = cols
                if _LEVELS.index(spec["level"]) >= _LEVELS.index("police"):
                    restricted.add(name)
    return reads, restricted


def plan(layouts: list[TableLayout]) -> list[RoleAccess]:
    """Every role's access to the tables ``layouts`` describe (plus Lantern's own server tables)."""
    config = roles_config()
    by_name = {layout.name: layout for layout in layouts}
    everything = [*by_name, *SERVER_TABLES]
    out = []
    for role, spec in config["roles"].items():
        if spec.get("reads") == "all":
            access = RoleAccess(role, True, spec.get("writes") == "all", {t: None for t in everything})
            access.writes = set(by_name) if access.write_all else set(spec.get("writes", []))
            out.append(access)
            continue
        reads, restricted = _limited_reads(spec["reads_profile"], by_name, config)
        writes = {t for t in spec.get("writes", []) if t in by_name}
        reads.update({t: None for t in writes})
        reads.update({t: None for t in config["everyone_reads"] if t in by_name})
        reads.update({t: None for t in config["catalogue_tables"] if t in by_name or t in everything})
        reads["workspace_meta"] = None
        reads["change_log"] = list(config["log_chain_columns"])
        access = RoleAccess(role, False, False, reads, writes)
        if writes:
            access.writes |= {"change_log", "change_log_signers", "workspace_meta"}
        if spec.get("reads_logged"):
            access.logged = restricted & set(reads)
        out.append(access)
    return out


# -- SQL --------------------------------------------------------------------------------------------------------

_FUNCTIONS = f"""
CREATE TABLE IF NOT EXISTS {ROLE_TABLES} (pg_role text NOT NULL, table_name text NOT NULL,
                                          PRIMARY KEY (pg_role, table_name));
CREATE TABLE IF NOT EXISTS {READ_LOG} (
    id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp(),
    statement_at timestamptz NOT NULL DEFAULT statement_timestamp(), pid integer NOT NULL DEFAULT pg_backend_pid(),
    who text NOT NULL DEFAULT session_user, table_name text NOT NULL, query text);
CREATE INDEX IF NOT EXISTS {READ_LOG}_statement ON {READ_LOG} (pid, statement_at, table_name);
CREATE OR REPLACE FUNCTION lantern_may_read(t text) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT t IS NULL OR EXISTS (SELECT 1 FROM {ROLE_TABLES} r
                                WHERE r.table_name = t AND pg_has_role(session_user, r.pg_role, 'USAGE'))
$$;
CREATE OR REPLACE FUNCTION lantern_log_read(t text) RETURNS boolean
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE q text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM {READ_LOG} WHERE pid = pg_backend_pid() AND statement_at = statement_timestamp()
                   AND table_name = t) THEN
        -- the whole statement, and what a cursor or a prepared statement of this session stands for
        q := current_query()
             || coalesce(E'\n-- cursors: ' || (SELECT string_agg(statement, '; ') FROM pg_cursors), '')
             || coalesce(E'\n-- prepared: ' || (SELECT string_agg(statement, '; ') FROM pg_prepared_statements), '');
        -- first in the server's log, which no rollback takes back (RAISE LOG goes there with the default
        -- log_min_messages, and only a superuser may change that), then in the table, for reading with SQL
        RAISE LOG 'lantern read: % read % (backend %): %', session_user, t, pg_backend_pid(), q;
        INSERT INTO {READ_LOG} (table_name, query) VALUES (t, q);
    END IF;
    RETURN true;
END $$;
"""


def _create_roles_sql(roles: list[RoleAccess]) -> str:
    names = ", ".join(f"'{a.pg_role}'" for a in roles)
    return f"""DO $$ DECLARE r text; BEGIN
    FOREACH r IN ARRAY ARRAY[{names}] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END $$;"""


def _policy_condition(access: RoleAccess, table: str, config: dict) -> str:
    if access.read_all:
        return "true"
    column = config["catalogue_tables"].get(table)
    if column:
        condition = f"lantern_may_read({quote(column)})"
        if access.logged:  # a restricted layer's count, extent or deletions are a read of it, and logged as one
            logged = ", ".join(literal(t) for t in sorted(access.logged))
            condition += f" AND ({quote(column)} IS NULL OR {quote(column)} NOT IN ({logged}) " \
                         f"OR lantern_log_read({quote(column)}))"
        return condition
    if table == "workspace_meta":
        return f"key IN ({', '.join(literal(k) for k in config['meta_keys'])})"
    if table in access.logged:
        return f"lantern_log_read({literal(table)})"
    referring = config.get("row_filters", {}).get(table)
    if referring:  # a row that names a place of a table the role may not read is not the role's to read
        return f"{quote(referring)} IS NULL OR lantern_may_read({quote(referring)})"
    return "true"


def statements(roles: list[RoleAccess], tables: list[str]) -> list[str]:
    """The SQL that gives ``roles`` exactly their access to ``tables`` (and nothing else)."""
    config = roles_config()
    admin = pg_role("admin")
    everyone = ", ".join(a.pg_role for a in roles)
    others = ", ".join(a.pg_role for a in roles if a.pg_role != admin)  # the owner keeps its own rights
    sql = [_create_roles_sql(roles), f"GRANT {admin} TO current_user", _FUNCTIONS,
           f"DELETE FROM {ROLE_TABLES}", f"REVOKE ALL ON {ROLE_TABLES}, {READ_LOG} FROM PUBLIC, {others}",
           f"ALTER TABLE {ROLE_TABLES} OWNER TO {admin}", f"ALTER TABLE {READ_LOG} OWNER TO {admin}",
           *(f"ALTER FUNCTION {f} OWNER TO {admin}" for f in (*POLICY_FUNCTIONS, *COPY_FUNCTIONS, *TRIGGER_FUNCTIONS)),
           f"REVOKE ALL ON FUNCTION {', '.join((*POLICY_FUNCTIONS, *COPY_FUNCTIONS, *TRIGGER_FUNCTIONS))} "
           f"FROM PUBLIC, {others}",
           f"GRANT EXECUTE ON FUNCTION {', '.join(POLICY_FUNCTIONS)} TO {everyone}",
           f"GRANT EXECUTE ON FUNCTION {', '.join(COPY_FUNCTIONS)} TO "
           f"{', '.join(a.pg_role for a in roles if a.read_all)}",
           f"GRANT USAGE ON SCHEMA public TO {everyone}"]
    for table in tables:
        q = quote(table)
        sql += [f"ALTER TABLE {q} OWNER TO {admin}", f"REVOKE ALL ON {q} FROM PUBLIC, {others}",
                f"ALTER TABLE {q} ENABLE ROW LEVEL SECURITY"]
        sql += [f"DROP POLICY IF EXISTS {quote(p)} ON {q}" for p in _policy_names(roles)]
    for access in roles:
        sql += _role_statements(access, tables, config)
        if access.writes:  # LOCK … IN EXCLUSIVE MODE needs UPDATE: the police (and any reader) cannot take it
            sql.append(f"GRANT UPDATE ON {WRITE_LOCK_TABLE} TO {access.pg_role}")
    return sql


def _policy_names(roles: list[RoleAccess]) -> list[str]:
    return [f"{a.pg_role}_{verb}" for a in roles for verb in ("read", "write")]


def _role_statements(access: RoleAccess, tables: list[str], config: dict) -> list[str]:
    r = access.pg_role
    sql = []
    for table in tables:
        q = quote(table)
        if table in access.reads:
            cols = access.reads[table]
            what = "SELECT" if cols is None else f"SELECT ({', '.join(map(quote, cols))})"
            sql += [f"GRANT {what} ON {q} TO {r}",
                    f"CREATE POLICY {quote(r + '_read')} ON {q} FOR SELECT TO {r} "
                    f"USING ({_policy_condition(access, table, config)})",
                    f"INSERT INTO {ROLE_TABLES} VALUES ({literal(r)}, {literal(table)})"]
        if table in access.writes:
            sql += _write_statements(access, table, config)
    return sql


APPEND_ONLY = ("change_log", "change_log_signers")  # history is added to, never rewritten, by every role


def _write_statements(access: RoleAccess, table: str, config: dict) -> list[str]:
    r, q = access.pg_role, quote(table)
    if table in APPEND_ONLY:
        check = "true"
        if table == "change_log" and not access.write_all:  # a role logs changes only to what it may write
            allowed = ", ".join(literal(t) for t in sorted(access.writes - set(APPEND_ONLY) - {"workspace_meta"}))
            check = f"table_name IN ({allowed})"
        return [f"GRANT INSERT ON {q} TO {r}",
                f"CREATE POLICY {quote(r + '_write')} ON {q} FOR INSERT TO {r} WITH CHECK ({check})"]
    if table == "workspace_meta" and not access.write_all:  # of the settings, only the history's head moves
        head = f"key = {literal('change_log_head')}"
        return [f"GRANT UPDATE (value) ON {q} TO {r}",
                f"CREATE POLICY {quote(r + '_write')} ON {q} FOR UPDATE TO {r} USING ({head}) WITH CHECK ({head})"]
    cond = "true" if access.write_all else _policy_condition(access, table, config)
    return [f"GRANT INSERT, UPDATE, DELETE ON {q} TO {r}",
            f"CREATE POLICY {quote(r + '_write')} ON {q} FOR ALL TO {r} USING ({cond}) WITH CHECK ({cond})"]


def apply(pg, layouts: list[TableLayout]) -> list[RoleAccess]:
    """Give every role its access on the server (inside the caller's transaction)."""
    roles = plan(layouts)
    tables = [layout.name for layout in layouts] + list(SERVER_TABLES)
    for statement in statements(roles, tables):
        pg.execute(statement)
    return roles
