"""Bulk insertion of metric points into the ``metrics`` table, the fastest way per driver.

* PostgreSQL with psycopg: binary ``COPY metrics ... FROM STDIN``.
* MariaDB/MySQL with PyMySQL: multi-row ``INSERT`` statements of about 1 MB, built here
  (PyMySQL's own ``executemany`` escapes every value through generic Python code, which
  costs three times more than the database). Text values are escaped by the driver's
  ``cursor.mogrify`` (each distinct run id / name once), numbers and datetimes are formatted
  from Python ints, floats and datetimes, so no user text reaches the SQL unescaped.
* Anything else: the driver's ``executemany``.

Errors raised by a raw driver connection are wrapped as SQLAlchemy wraps them, so the
store's retry and translation see the same exceptions whatever the path.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc

from ...serialize import number
from . import schema as tables
from .schema import nonfinite_text

COLUMNS = ("run_id", "name", "step", "value", "nonfinite", "timestamp")
_COPY_TYPES = ("text", "text", "int8", "float8", "text", "timestamp")
STATEMENT_BYTES = 1_000_000
"""Approximate size of one multi-row INSERT on MariaDB/MySQL (their packet limit is larger)."""


def metric_rows(
    run_id: str, metrics_by_name: Mapping[str, Mapping[str, Any]]
) -> Iterable[tuple[Any, ...]]:
    """Rows ``(run_id, name, step, value, nonfinite, timestamp)`` for the metrics table.

    Timestamps are stored as naive UTC; an aware one is converted.
    """
    for name, series in metrics_by_name.items():
        values = [number(value) for value in series["values"]]
        for step, value, stamp in zip(series["steps"], values, series["timestamps"], strict=True):
            if stamp is not None and stamp.tzinfo is not None:
                stamp = stamp.astimezone(_dt.timezone.utc).replace(tzinfo=None)
            if value - value == 0:  # finite: NaN - NaN and inf - inf are NaN
                yield (run_id, name, int(step), value, None, stamp)
            else:
                yield (run_id, name, int(step), None, nonfinite_text(value), stamp)


def insert_metrics(conn: sa.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (from :func:`metric_rows`) in bulk on ``conn``'s transaction."""
    dialect = conn.dialect
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        _copy(conn, rows)
    elif dialect.name in tables.MYSQL_DIALECTS and dialect.driver == "pymysql":
        _multirow_insert(conn, rows)
    else:
        _executemany(conn, rows)


def _column_list(conn: sa.Connection) -> str:
    quote = conn.dialect.identifier_preparer.quote
    return ", ".join(quote(name) for name in COLUMNS)


@contextmanager
def _driver_errors(conn: sa.Connection, statement: str) -> Iterator[Any]:
    """The raw driver connection; its errors come out as SQLAlchemy ``DBAPIError`` s."""
    dialect = conn.dialect
    driver_connection = conn.connection.driver_connection
    try:
        yield driver_connection
    except dialect.loaded_dbapi.Error as error:
        lost = dialect.is_disconnect(error, driver_connection, None)
        if lost:
            conn.invalidate(error)
        raise exc.DBAPIError.instance(
            statement, None, error, dialect.loaded_dbapi.Error, connection_invalidated=lost
        ) from error


def _copy(conn: sa.Connection, rows: list[tuple[Any, ...]]) -> None:
    command = f"COPY metrics ({_column_list(conn)}) FROM STDIN (FORMAT BINARY)"
    with (
        _driver_errors(conn, command) as driver,
        driver.cursor() as cursor,
        cursor.copy(command) as copy,
    ):
        copy.set_types(list(_COPY_TYPES))
        for row in rows:
            copy.write_row(row)


def _multirow_insert(conn: sa.Connection, rows: list[tuple[Any, ...]]) -> None:
    head = f"INSERT INTO metrics ({_column_list(conn)}) VALUES "
    with _driver_errors(conn, head) as driver, driver.cursor() as cursor:
        texts: dict[Any, str] = {}

        def text(value: Any) -> str:
            literal = texts.get(value)
            if literal is None:
                literal = texts[value] = cursor.mogrify("%s", (value,))
            return literal

        parts: list[str] = []
        size = 0
        for run_id, name, step, value, nonfinite, stamp in rows:
            number_sql = "NULL" if value is None else repr(float(value))
            part = (
                f"({text(run_id)},{text(name)},{int(step)},{number_sql},"
                f"{text(nonfinite)},{_datetime_sql(stamp)})"
            )
            parts.append(part)
            size += len(part) + 1
            if size >= STATEMENT_BYTES:
                cursor.execute(head + ",".join(parts))
                parts, size = [], 0
        if parts:
            cursor.execute(head + ",".join(parts))


def _datetime_sql(stamp: _dt.datetime | None) -> str:
    """A MariaDB/MySQL datetime literal of a naive datetime, or NULL."""
    if stamp is None:
        return "NULL"
    return f"'{stamp.isoformat(' ')}'"


def _executemany(conn: sa.Connection, rows: list[tuple[Any, ...]]) -> None:
    dialect = conn.dialect
    stamp = tables.metrics.c.timestamp.type.dialect_impl(dialect).bind_processor(dialect)
    if stamp is not None:
        rows = [(*row[:5], stamp(row[5])) for row in rows]
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    marks = ", ".join([mark] * len(COLUMNS))
    conn.exec_driver_sql(f"INSERT INTO metrics ({_column_list(conn)}) VALUES ({marks})", rows)
