"""The SQL sink on SQLite (a file), PostgreSQL and MariaDB (the machine's servers)."""

from __future__ import annotations

import pytest

from tests.sql.conftest import mariadb_db, postgresql_db, sqlite_db  # noqa: F401 - fixtures

from ..target import Target


def _target(name, database):
    from sacredlike.observers import SqlObserver

    return Target(name, database.url, lambda **kw: SqlObserver(database.url, **kw))


@pytest.fixture
def backend_sqlite(sqlite_db):  # noqa: F811 - the imported fixture
    """A fresh SQLite file."""
    target = _target("sqlite", sqlite_db)
    yield target
    target.close()


@pytest.fixture
def backend_postgresql(postgresql_db):  # noqa: F811
    """A fresh PostgreSQL schema."""
    target = _target("postgresql", postgresql_db)
    yield target
    target.close()


@pytest.fixture
def backend_mariadb(mariadb_db):  # noqa: F811
    """A fresh MariaDB database."""
    target = _target("mariadb", mariadb_db)
    yield target
    target.close()
