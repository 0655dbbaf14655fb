"""Bad URLs, refused connections, missing drivers and foreign schemas: one clear error each."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sacredlike.errors import MissingExtra, ObserverError, SinkRejected, SinkUnavailable
from sacredlike.observers.rows import schema as _rows_schema
from sacredlike.observers.sql import SqlObserver
from tests.service_helpers import free_port

from .helpers import start


@pytest.mark.parametrize("url", ["not a url", "://nothing", "postgresql://host:notaport/db"])
def test_malformed_url(url):
    with pytest.raises(ObserverError, match="not a database URL"):
        SqlObserver(url)


def test_unknown_database_kind():
    with pytest.raises(ObserverError, match="unknown database kind"):
        SqlObserver("oracle+nodriver://u:secret@host/db")


@pytest.mark.parametrize(
    "scheme", ["postgresql", "postgres", "mysql", "mariadb", "postgresql+psycopg"]
)
def test_refused_connection_names_url_without_password(scheme):
    url = f"{scheme}://root:hunter2@127.0.0.1:{free_port()}/test"
    with pytest.raises(SinkUnavailable) as caught:
        SqlObserver(url)
    message = str(caught.value)
    assert f"127.0.0.1:{url.rsplit(':', 1)[1].split('/')[0]}" in message
    assert "hunter2" not in message and "***" in message
    assert "is the database server running" in message


@pytest.mark.parametrize(
    ("url", "module"),
    [
        ("postgresql://u:secret@127.0.0.1/test", "psycopg"),
        ("mysql://u:secret@127.0.0.1/test", "pymysql"),
    ],
)
def test_missing_driver(monkeypatch, url, module):
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingExtra) as caught:
        SqlObserver(url)
    message = str(caught.value)
    assert 'pip install "sacredlike[sql]"' in message and module in message
    assert "u:***@127.0.0.1" in message and "secret" not in message


def test_missing_sqlalchemy_fails_at_creation_not_import():
    script = (
        "import sys; sys.modules['sqlalchemy'] = None\n"
        "import importlib.util as u; u.find_spec = lambda name, *a: None\n"
        "from sacredlike.observers.sql import SqlObserver\n"
        "try:\n"
        "    SqlObserver('sqlite://')\n"
        "except ImportError as error:\n"
        "    print(type(error).__name__, error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.startswith("MissingExtra")
    assert 'pip install "sacredlike[sql]"' in done.stdout


def test_sacred_database_is_refused(db):
    with db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE run (id INTEGER PRIMARY KEY, run_id VARCHAR(24))")
    with pytest.raises(SinkRejected, match=r"Sacred 0\.8 database"):
        SqlObserver(db.url)


def test_newer_schema_is_refused(db, observer):
    with db.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO sacredlike_schema VALUES (99, '2026-01-01 00:00:00')")
    with pytest.raises(SinkRejected, match="schema version 99"):
        SqlObserver(db.url)


def test_migrations_run_in_order_once(db, observer, monkeypatch):
    start(observer)

    def add_column(conn):
        conn.exec_driver_sql("ALTER TABLE run ADD COLUMN tags VARCHAR(255)")

    current = _rows_schema.SCHEMA_VERSION
    monkeypatch.setattr(_rows_schema, "SCHEMA_VERSION", current + 1)
    monkeypatch.setattr(_rows_schema, "MIGRATIONS", {current: add_column})
    upgraded = SqlObserver(db.url)
    again = SqlObserver(db.url)
    assert db.scalar("SELECT MAX(version) FROM sacredlike_schema") == current + 1
    assert db.scalar("SELECT COUNT(*) FROM sacredlike_schema") == 2
    assert db.rows("SELECT tags FROM run") == [{"tags": None}]
    for obs in (upgraded, again):
        obs.engine.dispose()


def test_lock_held_elsewhere_gives_up_after_the_timeout(mariadb_db, monkeypatch):
    from sacredlike.observers.rows import engine as _rows_engine

    observer = SqlObserver(mariadb_db.url)
    monkeypatch.setattr(_rows_engine, "LOCK_TIMEOUT", 0)
    with mariadb_db.engine.connect() as holder:
        name = holder.exec_driver_sql("SELECT CONCAT('sacredlike', DATABASE())").scalar()
        assert holder.exec_driver_sql(f"SELECT GET_LOCK('{name}', 5)").scalar() == 1
        with pytest.raises(SinkUnavailable, match="could not take the sacredlike lock"):
            start(observer)
        holder.exec_driver_sql(f"SELECT RELEASE_LOCK('{name}')")
    assert start(observer) == 1
    observer.engine.dispose()


def test_a_driver_error_without_a_message_is_still_translated():
    from sqlalchemy import exc

    from sacredlike.observers.rows.engine import translate

    lost = exc.OperationalError("SELECT 1", {}, ConnectionResetError())
    failure = translate(lost, "sqlite:///runs.db", "update the run")
    assert isinstance(failure, SinkUnavailable)
    assert "could not update the run: ConnectionResetError" in str(failure)
