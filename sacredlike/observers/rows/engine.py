"""Opening a database for the rows family, and the one translation of its errors.

:func:`open_engine` turns a URL into a SQLAlchemy engine with the settings every writer and
reader relies on (our default drivers, utf8mb4, READ COMMITTED on MariaDB, write-locking
transactions on SQLite, connect timeouts, dead-connection detection), and checks
it can connect. :func:`translate` maps a driver error to
:class:`~sacredlike.errors.SinkUnavailable` (connection trouble, deadlock: retrying may help)
or :class:`~sacredlike.errors.SinkRejected` (the data or statement was refused);
:func:`translated` applies it to a block.
:func:`exclusive` gives a transaction that holds the database-wide lock of this family.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.pool import StaticPool

from ...errors import MissingExtra, ObserverError, SinkError, SinkRejected, SinkUnavailable
from ...redaction import redact_credentials
from .schema import MYSQL_DIALECTS

_DEFAULT_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}
_LOCK_NAME = "sacredlike"
LOCK_TIMEOUT = 60
"""Seconds to wait for the database-wide lock before giving up (MariaDB)."""


def masked_url(engine: sa.Engine) -> str:
    """The URL of ``engine`` with its password replaced by ``***``, for messages."""
    return engine.url.render_as_string(hide_password=True)


def parse_url(url: str) -> sa.URL:
    """Parse a database URL, choosing our drivers when the URL names none.

    Raises:
        ObserverError: the URL is not a database URL.
    """
    try:
        parsed = sa.make_url(url)
    except (exc.ArgumentError, ValueError) as error:
        raise ObserverError(
            f"not a database URL: {redact_credentials(str(url))!r}; expected e.g. "
            "sqlite:///runs.db, postgresql://user@host/db or mysql://user@host/db"
        ) from error
    default = _DEFAULT_DRIVERS.get(parsed.drivername)
    if default is not None:
        parsed = parsed.set(drivername=default)
    if parsed.get_backend_name() in MYSQL_DIALECTS and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed


def open_engine(url: str, echo: bool = False) -> sa.Engine:
    """An engine on the database at ``url``, after checking that it accepts connections.

    Raises:
        ObserverError: malformed URL or unknown database kind.
        MissingExtra: the database driver is not installed.
        SinkUnavailable: the database refuses the connection.
    """
    parsed = parse_url(url)
    shown = redact_credentials(str(url))
    options: dict[str, Any] = {
        "echo": echo,
        "pool_pre_ping": True,
    }
    backend = parsed.get_backend_name()
    if backend in MYSQL_DIALECTS:
        options.update(isolation_level="READ COMMITTED", connect_args={"connect_timeout": 10})
    elif backend == "postgresql":
        options["connect_args"] = {"connect_timeout": 10}
    elif backend == "sqlite":
        options["connect_args"] = {"timeout": LOCK_TIMEOUT, "check_same_thread": False}
        if parsed.database in (None, "", ":memory:"):
            options["poolclass"] = StaticPool
    try:
        engine = sa.create_engine(parsed, **options)
    except ModuleNotFoundError as error:
        missing = MissingExtra("sql", "sql", error.name or str(error))
        missing.msg = f"cannot open {shown}: {missing.msg}"
        missing.args = (missing.msg,)
        raise missing from error
    except exc.NoSuchModuleError as error:
        raise ObserverError(
            f"unknown database kind in {shown!r}: {error}; use sqlite, postgresql or mysql"
        ) from error
    if backend == "sqlite":
        _lock_sqlite_on_begin(engine)
    try:
        with engine.connect():
            pass
    except exc.DBAPIError as error:
        engine.dispose()
        raise translate(error, shown, "connect") from error
    return engine


def _lock_sqlite_on_begin(engine: sa.Engine) -> None:
    """Make every SQLite transaction ``BEGIN IMMEDIATE`` (take the write lock up front).

    With the driver's default deferred transactions, two processes that read and then
    write would fail with "database is locked" instead of waiting for each other.
    """

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def translate(error: exc.DBAPIError, shown_url: str, what: str) -> SinkError:
    """The sacredlike error for a driver error raised while doing ``what``."""
    cause = error.orig if error.orig is not None else error
    lines = str(cause).strip().splitlines()
    reason = lines[0] if lines else type(cause).__name__
    if error.connection_invalidated or (
        isinstance(error, (exc.OperationalError, exc.InterfaceError)) and not _mysql_refusal(cause)
    ):
        return SinkUnavailable(
            f"SQL store {shown_url}: could not {what}: {reason} "
            "(is the database server running and the URL right?)"
        )
    return SinkRejected(f"SQL store {shown_url}: could not {what}: {reason}")


_MYSQL_TRANSIENT = frozenset(
    {1040, 1044, 1045, 1053, 1152, 1153, 1158, 1159, 1160, 1161, 1205, 1213, 1317, 1927}
)
"""MariaDB/MySQL server error codes that are connection or lock trouble (retrying may help);
its other ``OperationalError`` s outside 2000-2999 (client errors) are refusals, e.g. 4025 (a CHECK
constraint) or 1301 (a result larger than ``max_allowed_packet``)."""


def _mysql_refusal(cause: BaseException) -> bool:
    """Whether a driver error is a MariaDB/MySQL server refusing the statement."""
    if not type(cause).__module__.startswith("pymysql") or not cause.args:
        return False
    code = cause.args[0]
    client_error = isinstance(code, int) and 2000 <= code < 3000
    return isinstance(code, int) and not client_error and code not in _MYSQL_TRANSIENT


@contextmanager
def translated(shown_url: str, what: str) -> Iterator[None]:
    """Turn driver errors raised inside the block into :func:`translate`'s errors."""
    try:
        yield
    except exc.DBAPIError as error:
        raise translate(error, shown_url, what) from error


@contextmanager
def exclusive(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A transaction holding this family's database-wide lock; commits on success.

    PostgreSQL: a transaction advisory lock keyed by the current schema. MariaDB/MySQL:
    ``GET_LOCK`` named after the database, released after the commit. SQLite: every
    transaction already holds the write lock (``BEGIN IMMEDIATE``).
    """
    with engine.connect() as conn:
        backend = conn.dialect.name
        if backend == "postgresql":
            conn.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtext(:name || current_schema()))"),
                {"name": _LOCK_NAME},
            )
        elif backend in MYSQL_DIALECTS:
            _mysql_get_lock(conn)
        try:
            yield conn
            conn.commit()
        finally:
            if backend in MYSQL_DIALECTS and not conn.invalidated:
                conn.rollback()
                release = sa.text("SELECT RELEASE_LOCK(CONCAT(:name, DATABASE()))")
                conn.execute(release, {"name": _LOCK_NAME})
                conn.commit()


def _mysql_get_lock(conn: sa.Connection) -> None:
    got = conn.execute(
        sa.text("SELECT GET_LOCK(CONCAT(:name, DATABASE()), :timeout)"),
        {"name": _LOCK_NAME, "timeout": LOCK_TIMEOUT},
    ).scalar()
    conn.commit()
    if got != 1:
        raise SinkUnavailable(
            f"SQL store {masked_url(conn.engine)}: could not take the sacredlike lock within "
            f"{LOCK_TIMEOUT} s (another process holds it; is one stuck?)"
        )
