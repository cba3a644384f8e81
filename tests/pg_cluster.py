"""A throwaway PostgreSQL/PostGIS cluster for the tests: initdb in a temporary folder, pg_ctl start, socket only.

The server binaries come from Debian's packages (``packaging/sysdeps.sh test`` installs ``postgresql`` and
``postgresql-postgis``). PostgreSQL refuses to run as root, so as root the cluster is owned and run by the
``postgres`` system user the package creates. Connections go over a Unix socket in the cluster's folder, with
``trust`` authentication: a test connects as any role by name, so what a role may read is decided by its grants
and row-level security alone, which is what the tests attack.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

SUPERUSER = "lantern_test_admin"


def server_bin() -> Path | None:
    """The folder of initdb/pg_ctl of the newest installed PostgreSQL with PostGIS, or None."""
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True):
        version = Path(bindir).parent.name
        if (Path(bindir) / "initdb").exists() and glob.glob(f"/usr/share/postgresql/{version}/extension/postgis.control"):
            return Path(bindir)
    return None


def missing_reason() -> str | None:
    if server_bin() is None:
        return ("PostgreSQL with PostGIS is not installed (Debian: apt-get install postgresql postgresql-postgis; "
                "`make test` installs them through packaging/sysdeps.sh)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: the server cannot be started as the postgres user"
    return None


class Cluster:
    """One running throwaway cluster; ``dsn(db, user)`` addresses it."""

    def __init__(self):
        self.bin = server_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="lantern-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.port = 5432
        self._as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as_user:
            shutil.chown(self.dir, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8")
        conf = (f"listen_addresses = ''\nunix_socket_directories = '{self.dir}'\nfsync = off\n"
                "log_destination = 'stderr'\nlogging_collector = off\nmax_connections = 60\n")
        self._append_conf(conf)
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def _append_conf(self, text: str) -> None:
        path = self.data / "postgresql.conf"
        if self._as_user:
            subprocess.run(self._as_user + ["sh", "-c", f"cat >> '{path}'"], input=text.encode(), check=True)
        else:
            with open(path, "a") as f:
                f.write(text)

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(self._as_user + [str(self.bin / tool), *args], check=True, capture_output=True)

    def dsn(self, dbname: str = "postgres", user: str = SUPERUSER) -> str:
        return f"host={self.dir} port={self.port} dbname={dbname} user={user}"

    def server_log(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def new_database(cluster: Cluster, name: str) -> str:
    """A fresh database with PostGIS; its superuser DSN."""
    import psycopg

    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(cluster.dsn(name), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return cluster.dsn(name)


#: a login of its own per role, as a municipality gives each person one (tests/layers/test_server_*.py)
LOGINS = {"planner": "anna_planner", "police": "pauls_police", "auditor": "ilze_auditor", "admin": "dace_admin"}


def give_logins(cluster: Cluster, dsn: str):
    """Make each role's login a member of its group role on the database ``dsn``; a function role -> its DSN."""
    import psycopg
    from psycopg import sql

    from layers.server_roles import pg_role

    with psycopg.connect(dsn, autocommit=True) as pg:
        for role, user in LOGINS.items():
            if not pg.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)).fetchone():
                pg.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(user)))
            pg.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(pg_role(role)), sql.Identifier(user)))
    dbname = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
    return lambda role: cluster.dsn(dbname, LOGINS[role])
