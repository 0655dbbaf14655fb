"""Fixtures for the SQL sink: a fresh database per test on SQLite, PostgreSQL and MariaDB.

PostgreSQL (127.0.0.1:5432, trust auth, database ``test``): each test gets its own schema,
selected through the URL (``options=-csearch_path=...``) and named in ``application_name`` so
a test can find and terminate its connections. MariaDB (127.0.0.1:3306, root, no password):
each test gets its own database. Both are dropped afterwards. A server that does not answer
skips the test locally and fails it under CI (:func:`tests.service_helpers.service_missing`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.service_helpers import TcpProxy, port_open, service_missing

sa = pytest.importorskip("sqlalchemy")

BACKENDS = ("sqlite", "postgresql", "mariadb")
PG_HOST, PG_PORT = "127.0.0.1", 5432
MARIADB_HOST, MARIADB_PORT = "127.0.0.1", 3306


@dataclass
class Database:
    """A scratch database for one test.

    Attributes:
        kind: ``"sqlite"``, ``"postgresql"`` or ``"mariadb"``.
        url: the URL to give the observer and the reader.
        kill_connections: terminates the server sessions of this database (not SQLite).
    """

    kind: str
    url: str
    kill_connections: Callable[[], int] = lambda: 0
    address: str = ""
    _engine: Any = field(default=None, repr=False)

    @property
    def engine(self) -> Any:
        """An engine for checking rows directly."""
        if self._engine is None:
            from sacredlike.observers.rows.engine import open_engine

            self._engine = open_engine(self.url)
        return self._engine

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        """Rows of a SQL query as dicts."""
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(sa.text(sql), params)]

    def select(self, table: str, **equal: Any) -> list[dict[str, Any]]:
        """Rows of one of the sink's tables whose columns equal ``equal``, typed by the schema."""
        from sacredlike.observers.rows import schema as _rows_schema

        chosen = _rows_schema.metadata.tables[table]
        query = sa.select(chosen).where(*(chosen.c[k] == v for k, v in equal.items()))
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def scalar(self, sql: str, **params: Any) -> Any:
        """The single value of a SQL query."""
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()

    def dispose(self) -> None:
        """Close the checking engine."""
        if self._engine is not None:
            self._engine.dispose()


def _scratch_name() -> str:
    return "sl_" + uuid.uuid4().hex[:12]


def _postgres_admin() -> Any:
    psycopg = pytest.importorskip("psycopg")
    if not port_open(PG_HOST, PG_PORT):
        service_missing(f"PostgreSQL is not listening on {PG_HOST}:{PG_PORT}")
    errors = []
    for user in ("postgres", "root"):
        try:
            conn = psycopg.connect(
                host=PG_HOST, port=PG_PORT, user=user, dbname="test", autocommit=True
            )
        except psycopg.OperationalError as error:
            errors.append(str(error))
            continue
        return conn, user
    service_missing(f"cannot connect to PostgreSQL database 'test': {errors}")


def _mariadb_admin() -> Any:
    pymysql = pytest.importorskip("pymysql")
    if not port_open(MARIADB_HOST, MARIADB_PORT):
        service_missing(f"MariaDB is not listening on {MARIADB_HOST}:{MARIADB_PORT}")
    try:
        return pymysql.connect(
            host=MARIADB_HOST, port=MARIADB_PORT, user="root", password="", autocommit=True
        )
    except pymysql.MySQLError as error:
        service_missing(f"cannot connect to MariaDB as root: {error}")


def _scratch(database: Database, drop: Callable[[], None]) -> Iterator[Database]:
    """Yield ``database``; then close it, end its server sessions and ``drop`` it.

    ``drop`` runs even when ending the sessions fails, so no scratch database is left behind.
    """
    try:
        yield database
    finally:
        database.dispose()
        try:
            database.kill_connections()
        finally:
            drop()


@pytest.fixture
def postgresql_db() -> Iterator[Database]:
    """A fresh PostgreSQL schema in database ``test``."""
    admin, user = _postgres_admin()
    name = _scratch_name()
    admin.execute(f"CREATE SCHEMA {name}")

    def kill() -> int:
        sessions = "FROM pg_stat_activity WHERE application_name = %s"
        rows = admin.execute(f"SELECT pg_terminate_backend(pid) {sessions}", (name,)).fetchall()
        deadline = time.monotonic() + 10
        while admin.execute(f"SELECT COUNT(*) {sessions}", (name,)).fetchone()[0]:
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL sessions of {name} survived termination")
            time.sleep(0.02)
        return len(rows)

    url = (
        f"postgresql://{user}@{PG_HOST}:{PG_PORT}/test"
        f"?options=-csearch_path%3D{name}&application_name={name}"
    )

    def drop() -> None:
        admin.execute(f"DROP SCHEMA {name} CASCADE")
        admin.close()

    yield from _scratch(Database("postgresql", url, kill, f"{PG_HOST}:{PG_PORT}"), drop)


@pytest.fixture
def mariadb_db() -> Iterator[Database]:
    """A fresh MariaDB database."""
    pymysql = pytest.importorskip("pymysql")
    admin = _mariadb_admin()
    name = _scratch_name()
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")

    def kill() -> int:
        with admin.cursor() as cursor:
            cursor.execute("SELECT id FROM information_schema.processlist WHERE db = %s", (name,))
            ids = [row[0] for row in cursor.fetchall()]
            for session in ids:
                try:
                    cursor.execute(f"KILL {int(session)}")
                except pymysql.err.OperationalError as error:
                    if error.args[0] != 1094:  # 1094: the session already ended by itself
                        raise
        return len(ids)

    def drop() -> None:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE {name}")
        admin.close()

    address = f"{MARIADB_HOST}:{MARIADB_PORT}"
    yield from _scratch(Database("mariadb", f"mysql://root@{address}/{name}", kill, address), drop)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    """A fresh SQLite file."""
    database = Database("sqlite", f"sqlite:///{tmp_path / 'runs.db'}")
    yield database
    database.dispose()


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest) -> Database:
    """A fresh database of each kind in turn."""
    return request.getfixturevalue(f"{request.param}_db")


@pytest.fixture(params=("postgresql", "mariadb"))
def server_db(request: pytest.FixtureRequest) -> Database:
    """A fresh database on each database server in turn."""
    return request.getfixturevalue(f"{request.param}_db")


@pytest.fixture
def proxy(server_db: Database) -> Iterator[TcpProxy]:
    """A running proxy in front of the test's database server."""
    forwarder = TcpProxy(server_db.address)
    forwarder.start()
    yield forwarder
    if forwarder._listener is not None:
        forwarder._listener.close()


@pytest.fixture
def observer(db: Database) -> Iterator[Any]:
    """A SqlObserver on the test's database."""
    from sacredlike.observers.sql import SqlObserver

    obs = SqlObserver(db.url)
    yield obs
    obs.engine.dispose()


@pytest.fixture
def reader(db: Database) -> Iterator[Any]:
    """A SqlReader on the test's database (its tables created first: reading creates none)."""
    from sacredlike.observers.sql import SqlObserver, SqlReader

    SqlObserver(db.url).engine.dispose()
    with SqlReader.from_url(db.url) as opened:
        yield opened
