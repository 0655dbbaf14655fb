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
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc

from ...errors import SinkUnavailable
from ...metric_values import EXACT_INT, STEP_MAX, STEP_MIN, check_step, check_value, point_problem
from . import schema as tables
from .engine import masked_url, translate
from .schema import nonfinite_text

COLUMNS = ("run_id", "name", "step", "value", "nonfinite", "timestamp")
_COPY_TYPES = ("text", "text", "int8", "float8", "text", "timestamp")
STATEMENT_BYTES = 1_000_000
"""Approximate size of one multi-row INSERT on MariaDB/MySQL (their packet limit is larger)."""


def metric_rows(
    run_id: str, metrics_by_name: Mapping[str, Mapping[str, Any]], refused: list[str]
) -> Iterator[tuple[Any, ...]]:
    """Rows ``(run_id, name, step, value, nonfinite, timestamp)`` for the metrics table.

    Points that break :mod:`sacredlike.metric_values`' rule (they reach a sink only by
    calling ``log_metrics`` directly) are left out, with the reason appended to ``refused``.
    Timestamps are stored as naive UTC; an aware one is converted.
    """
    for name, series in metrics_by_name.items():
        name_problem = point_problem(name, 0, 0.0)
        for step, value, stamp in zip(
            series["steps"], series["values"], series["timestamps"], strict=True
        ):
            if name_problem or not _plain(step, value):
                problem = name_problem or point_problem(name, step, value)
                if problem:
                    refused.append(problem)
                    continue
                step, value = check_step(name, step), float(check_value(name, value))
            if stamp is not None and stamp.tzinfo is not None:
                stamp = stamp.astimezone(_dt.timezone.utc).replace(tzinfo=None)
            if value - value == 0:  # finite: NaN - NaN and inf - inf are NaN
                yield (run_id, name, step, value, None, stamp)
            else:
                yield (run_id, name, step, None, nonfinite_text(value), stamp)


def _plain(step: Any, value: Any) -> bool:
    """Whether a point is already in its stored form (the fast path of every point)."""
    return (
        type(step) is int
        and STEP_MIN <= step <= STEP_MAX
        and (type(value) is float or (type(value) is int and -EXACT_INT <= value <= EXACT_INT))
    )


def insert_isolating(conn: sa.Connection, rows: list[tuple[Any, ...]]) -> list[str]:
    """Insert ``rows`` like :func:`insert_metrics`, leaving out those the database refuses.

    The batch is tried whole inside a savepoint; if the database refuses it, each half is
    tried in turn, down to single rows, so one bad row costs about ``log2(len(rows))``
    attempts and no good row is lost. Connection trouble is raised, not isolated.

    Returns:
        One reason per row left out.
    """
    try:
        with conn.begin_nested():
            insert_metrics(conn, rows)
    except exc.DBAPIError as error:
        failure = translate(error, masked_url(conn.engine), "insert metrics")
        if isinstance(failure, SinkUnavailable):
            raise
        if len(rows) == 1:
            return [str(failure)]
        half = len(rows) // 2
        return insert_isolating(conn, rows[:half]) + insert_isolating(conn, rows[half:])
    return []


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
