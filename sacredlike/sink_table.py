"""The one table of built-in sinks: scheme, flag, extra, family, reader and exported names.

Everything else derives from it: the registry (:mod:`sacredlike.registry`), the lazy names
of :mod:`sacredlike.observers`, the experiment's command-line flags and the packaging
tests. Adding a built-in sink is one entry here plus its module; nothing is imported to
read the table, so ``import sacredlike`` stays cheap.
"""

from __future__ import annotations

from .registry import Sink

_OBS = "sacredlike.observers"

BUILTIN_SINKS: tuple[Sink, ...] = (
    Sink(
        name="file_storage",
        family="folder",
        observer=f"{_OBS}.file_storage:FileStorageObserver",
        reader=f"{_OBS}.file_storage:FileStorageReader",
        exports=("FileStorageObserver", "FileStorageReader"),
        schemes=("file",),
        flag="--file_storage",
        short_flag="-F",
        metavar="BASEDIR",
        help="add a file storage observer writing runs to BASEDIR",
    ),
    Sink(
        name="sql",
        family="rows",
        observer=f"{_OBS}.sql:SqlObserver",
        reader=f"{_OBS}.rows.reader:RowsReader",
        exports=("SqlObserver", "SqlReader"),
        extra="sql",
        requires=("sqlalchemy",),
        schemes=("sqlite", "postgresql", "postgres", "mysql", "mariadb"),
        flag="--sql",
        short_flag="-s",
        metavar="DB_URL",
        help="record runs in a SQL database (SQLite, PostgreSQL, MariaDB/MySQL) at DB_URL",
    ),
    Sink(
        name="mongo",
        family="document",
        observer=f"{_OBS}.mongo:MongoObserver",
        reader=f"{_OBS}.mongo:MongoReader",
        exports=("MongoObserver", "QueuedMongoObserver", "MongoReader"),
        extra="mongo",
        requires=("pymongo",),
        schemes=("mongodb",),
        flag="--mongo_db",
        short_flag="-m",
        metavar="DB",
        help="add a MongoObserver: DB, HOST:PORT, HOST:PORT:DB, ...:DB.PREFIX, optional "
        "!PRIORITY, or a mongodb:// / mongodb+srv:// URI",
    ),
    Sink(
        name="tinydb",
        family="document",
        observer=f"{_OBS}.tinydb_hashfs:TinyDbObserver",
        reader=f"{_OBS}.tinydb_hashfs:TinyDbReader",
        exports=("TinyDbObserver", "TinyDbReader"),
        extra="tinydb",
        requires=("tinydb",),
        schemes=("tinydb",),
        flag="--tiny_db",
        short_flag="-t",
        metavar="BASEDIR",
        help="add a TinyDbObserver storing runs in BASEDIR (metadata.json + hashfs/)",
    ),
    Sink(
        name="slack",
        family="notification",
        observer=f"{_OBS}.slack:SlackObserver",
        exports=("SlackObserver",),
        extra="notify",
        requires=("httpx",),
    ),
    Sink(
        name="telegram",
        family="notification",
        observer=f"{_OBS}.telegram_obs:TelegramObserver",
        exports=("TelegramObserver",),
        extra="notify",
        requires=("httpx",),
    ),
)


def builtin_sink(name: str) -> Sink:
    """The built-in sink called ``name`` (a ``KeyError`` names a typo in the code)."""
    for sink in BUILTIN_SINKS:
        if sink.name == name:
            return sink
    raise KeyError(name)


def lazy_exports() -> dict[str, str]:
    """``{public name: module}`` for every name :mod:`sacredlike.observers` loads lazily."""
    return {name: sink.module for sink in BUILTIN_SINKS for name in sink.exports}
