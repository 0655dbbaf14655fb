"""SqlObserver and SqlReader: runs as rows in SQLite, PostgreSQL or MariaDB/MySQL.

Sacred-compatible entry points over the rows family (:mod:`sacredlike.observers.rows.writer`):
``SqlObserver(url, echo=False, priority=40)``, ``SqlObserver.create_from(engine, session)``
and the ``-s/--sql DB_URL`` flag. ``SqlReader`` (``SqlReader.from_url(url)``) reads the runs
back; it needs SQLAlchemy, so it is loaded on first access. Tables: ``docs/sql.md``.
"""

from __future__ import annotations

from typing import Any

from ..errors import ObserverError
from ..sink_table import builtin_sink
from .rows.writer import RowsObserver

__all__ = ["SqlObserver"]  # SqlReader too, loaded on first access (see __getattr__)

SINK = builtin_sink("sql")
"""The SQL sink as the table declares it; :meth:`Sink.check_installed` checks SQLAlchemy."""


class SqlObserver(RowsObserver):
    """Records runs into a SQL database given by URL or engine.

    Args:
        url: a SQLAlchemy database URL (``sqlite:///runs.db``,
            ``postgresql://user@host/db``, ``mysql://user@host/db``); the drivers default to
            psycopg (PostgreSQL) and PyMySQL (MariaDB/MySQL).
        echo: log every SQL statement (SQLAlchemy's ``echo``).
        priority: observers with a higher priority are called first.
        engine: a ready SQLAlchemy engine instead of ``url``.

    Raises:
        ObserverError: the URL is malformed or neither/both of ``url`` and ``engine`` given.
        MissingExtra: SQLAlchemy or the database driver is not installed.
        SinkUnavailable: the database refuses the connection.
    """

    def __init__(
        self,
        url: str | None = None,
        echo: bool = False,
        priority: int = 40,
        *,
        engine: Any = None,
    ) -> None:
        if (url is None) == (engine is None):
            raise ObserverError("SqlObserver needs exactly one of url= and engine=")
        if engine is None:
            SINK.check_installed()
            from .rows.engine import open_engine

            engine = open_engine(url, echo=echo)
        super().__init__(engine, priority=priority)

    @classmethod
    def create_from(cls, engine: Any, session: Any = None, priority: int = 40) -> SqlObserver:
        """Build the observer on an existing SQLAlchemy engine (Sacred's signature).

        ``session`` is accepted for compatibility and not used: every event is written in its
        own transaction on a connection from ``engine``.
        """
        return cls(engine=engine, priority=priority)

    @classmethod
    def from_flag(cls, value: str) -> SqlObserver:
        """Build the observer from the ``-s/--sql DB_URL`` argument.

        Raises:
            ValueError: an in-memory SQLite URL (the run would be lost at exit).
        """
        head, _, rest = value.partition("://")
        if head.split("+")[0].lower() == "sqlite" and rest.split("?")[0] in ("", "/", "/:memory:"):
            raise ValueError(
                "an in-memory SQLite database is lost when the process ends; give a file, "
                "e.g. sqlite:///runs.db"
            )
        return cls(value)


def __getattr__(name: str) -> Any:
    """Load ``SqlReader`` (which needs SQLAlchemy) on first access."""
    if name == "SqlReader":
        SINK.check_installed()
        from .rows.reader import RowsReader

        return RowsReader
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names, ``SqlReader`` included."""
    return sorted([*globals(), "SqlReader"])
