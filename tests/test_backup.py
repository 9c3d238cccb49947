"""Backup and restore, as the README's procedure does it: a populated database is dumped,
restored into a fresh one, and every table's contents compared.

On PostgreSQL with pg_dump / pg_restore (the production recipe); on SQLite with its own
online backup (the embedded mode's recipe). Each test runs only on its kind of database.
"""

import hashlib
import sqlite3
import subprocess
import uuid

import pytest
from django.core.management import call_command
from django.db import connection

from cases.demo import services as demo
from cases.models import Case, Finding
from tests.factories import AnalystFactory, TeamFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _populate() -> None:
    """The demo data set (every kind of row, history included) and some people."""
    demo.demo_data_seed()
    AnalystFactory(username="restored-alice", teams=[TeamFactory(name="Restore team")])
    call_command("create_demo_users", verbosity=0)
    assert Case.objects.count() > 100 and Finding.objects.exists()


def _pg_tables(cursor) -> list[str]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    return [name for (name,) in cursor.fetchall()]


def _pg_contents(dsn: dict) -> dict[str, tuple[int, str]]:
    """Every table's row count and a digest of its rows in a fixed order, and every
    sequence's position (so the restored database hands out the ids the old one would)."""
    import psycopg

    with psycopg.connect(**dsn) as conn, conn.cursor() as cursor:
        contents = {}
        for table in _pg_tables(cursor):
            cursor.execute(
                "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))"
                f' FROM "{table}" t'
            )
            contents[table] = tuple(cursor.fetchone())
        cursor.execute("SELECT sequencename, last_value FROM pg_sequences ORDER BY sequencename")
        for name, last_value in cursor.fetchall():
            contents[f"sequence {name}"] = (last_value or 0, "")
    return contents


def _pg_args(settings: dict) -> list[str]:
    args = ["--host", settings["HOST"] or "127.0.0.1", "--port", str(settings["PORT"] or 5432)]
    if settings["USER"]:
        args += ["--username", settings["USER"]]
    return args


def _pg_dsn(settings: dict, name: str) -> dict:
    dsn = {
        "dbname": name,
        "host": settings["HOST"] or "127.0.0.1",
        "port": settings["PORT"] or 5432,
    }
    if settings["USER"]:
        dsn["user"] = settings["USER"]
    if settings["PASSWORD"]:
        dsn["password"] = settings["PASSWORD"]
    return dsn


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's pg_dump/pg_restore")
def test_postgresql_dump_restores_every_table(tmp_path):
    _populate()
    settings = connection.settings_dict
    source = settings["NAME"]
    target = f"{source}_restore_{uuid.uuid4().hex[:8]}"
    env = {"PGPASSWORD": settings["PASSWORD"] or "", "PATH": "/usr/bin:/bin"}
    dump = tmp_path / "wishlist.dump"
    args = _pg_args(settings)

    subprocess.run(
        ["pg_dump", *args, "--format=custom", "--no-owner", f"--file={dump}", source],
        check=True,
        env=env,
    )
    subprocess.run(["createdb", *args, target], check=True, env=env)
    try:
        subprocess.run(
            ["pg_restore", *args, "--no-owner", "--exit-on-error", f"--dbname={target}", str(dump)],
            check=True,
            env=env,
        )
        before = _pg_contents(_pg_dsn(settings, source))
        after = _pg_contents(_pg_dsn(settings, target))
    finally:
        subprocess.run(["dropdb", *args, "--if-exists", target], check=True, env=env)

    assert "cases_case" in before and "cases_historicalcase" in before
    assert before["cases_case"][0] == Case.objects.count()
    assert after == before


def _sqlite_contents(conn: sqlite3.Connection) -> dict[str, tuple[int, str]]:
    tables = [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        )
    ]
    contents = {}
    for table in tables:
        rows = sorted(repr(row) for row in conn.execute(f'SELECT * FROM "{table}"'))
        contents[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return contents


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's online backup")
def test_sqlite_backup_restores_every_table(tmp_path):
    _populate()
    connection.ensure_connection()
    live = connection.connection
    backup_file = tmp_path / "wishlist-backup.sqlite3"
    with sqlite3.connect(backup_file) as backup:
        live.backup(backup)
    backup.close()

    # Restore: copy the backup into a fresh database, as replacing the file would.
    # Read back with the converters Django's own connection uses, so values compare alike.
    restored = sqlite3.connect(
        ":memory:", detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES
    )
    with sqlite3.connect(backup_file) as backup:
        backup.backup(restored)
    backup.close()

    before = _sqlite_contents(live)
    after = _sqlite_contents(restored)
    restored.close()
    assert "cases_case" in before and "cases_historicalcase" in before
    assert before["cases_case"][0] == Case.objects.count()
    assert after == before
