"""The tables of the "run as rows" family (SQLAlchemy Core), their version and migrations,
and the shape values take in their JSON and ``nonfinite`` columns (:func:`json_safe`).

Sacred 0.8.7's tables and columns are kept, widened where real data overflowed them, and
completed by what Sacred lacks (``docs/sql.md`` has the full description):

* ``run``: one row per run. ``id`` is the database's auto-increment key and, when this
  observer chose the id, also the run id; ``run_id`` is the run id as text (unique), the key
  the other tables use. ``config``, ``info``, ``meta`` and ``result`` are JSON (JSONB on
  PostgreSQL), ``status`` is free text (QUEUED and custom interrupt statuses included),
  ``captured_out`` is appended to in place, ``fail_trace`` holds the traceback text,
  ``lease_until`` when the next heartbeat is overdue (schema version 2).
* ``experiment``, ``host``, ``source``, ``dependency``, ``repository`` and the association
  tables ``experiments_sources``, ``experiments_dependencies``, ``experiments_repositories``:
  as in Sacred; ``experiment.ex_info`` and ``host.host_info`` also keep the whole dict.
* ``metrics``: one row per logged point ``(run_id, name, step, value, timestamp)``, indexed on
  ``(run_id, name)``, without a foreign key (it would check every point); a non-finite value
  is stored as NULL ``value`` plus ``nonfinite`` (``"nan"``, ``"inf"`` or ``"-inf"``) because
  MariaDB and SQLite cannot hold them all.
* ``artifact`` / ``resource`` (+ ``runs_resources``): a file up to :data:`CHUNK_SIZE` bytes
  sits in ``content`` as in Sacred; a larger one is split into ``artifact_chunk`` /
  ``resource_chunk`` rows ``(owner id, seq, data)`` so it never has to be in memory at once.
* ``sacredlike_schema``: one row per applied schema version.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

from ...text_escape import escape

SCHEMA_VERSION = 2
"""The version of the tables this code writes; stored in ``sacredlike_schema``."""

CHUNK_SIZE = 1 << 20
"""Files up to this size are stored inline; larger ones in chunks of this size."""

MIGRATIONS: dict[int, Callable[[sa.Connection], None]] = {}
"""``MIGRATIONS[v]`` upgrades a database from schema version ``v`` to ``v + 1``."""


def _add_lease_column(conn: sa.Connection) -> None:
    """Version 2: ``run.lease_until``, when the run's next heartbeat is overdue."""
    kind = _time().compile(dialect=conn.dialect)
    conn.execute(sa.text(f"ALTER TABLE run ADD COLUMN lease_until {kind}"))


MIGRATIONS[1] = _add_lease_column

MYSQL_DIALECTS = ("mysql", "mariadb")
"""SQLAlchemy's names for MariaDB/MySQL (which one depends on the URL's scheme)."""


def _json() -> sa.types.TypeEngine:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def _long_text() -> sa.types.TypeEngine:
    return sa.Text().with_variant(mysql.LONGTEXT(), *MYSQL_DIALECTS)


def _time() -> sa.types.TypeEngine:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *MYSQL_DIALECTS)


def _blob() -> sa.types.TypeEngine:
    return sa.LargeBinary().with_variant(mysql.LONGBLOB(), *MYSQL_DIALECTS)


def _big_key() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


RUN_ID = sa.String(64)
metadata = sa.MetaData()

source = sa.Table(
    "source",
    metadata,
    sa.Column("source_id", sa.Integer, primary_key=True),
    sa.Column("filename", sa.Text),
    sa.Column("md5sum", sa.String(32)),
    sa.Column("content", _long_text()),
)
repository = sa.Table(
    "repository",
    metadata,
    sa.Column("repository_id", sa.Integer, primary_key=True),
    sa.Column("url", sa.Text),
    sa.Column("commit", sa.String(64)),
    sa.Column("dirty", sa.Boolean),
)
dependency = sa.Table(
    "dependency",
    metadata,
    sa.Column("dependency_id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255)),
    sa.Column("version", sa.String(255)),
)
host = sa.Table(
    "host",
    metadata,
    sa.Column("host_id", sa.Integer, primary_key=True),
    sa.Column("cpu", sa.String(255)),
    sa.Column("hostname", sa.String(255)),
    sa.Column("os", sa.String(255)),
    sa.Column("os_info", sa.Text),
    sa.Column("python_version", sa.String(64)),
    sa.Column("md5sum", sa.String(32), index=True),
    sa.Column("host_info", _json()),
)
experiment = sa.Table(
    "experiment",
    metadata,
    sa.Column("experiment_id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255), index=True),
    sa.Column("md5sum", sa.String(32), index=True),
    sa.Column("base_dir", sa.Text),
    sa.Column("ex_info", _json()),
)


def _association(name: str, left: str, right: str) -> sa.Table:
    """A Sacred-style association table between ``left`` and ``right`` ("table.column")."""
    return sa.Table(
        name,
        metadata,
        sa.Column(left.split(".")[1], sa.Integer, sa.ForeignKey(left), index=True),
        sa.Column(right.split(".")[1], sa.Integer, sa.ForeignKey(right)),
    )


experiments_sources = _association(
    "experiments_sources", "experiment.experiment_id", "source.source_id"
)
experiments_repositories = _association(
    "experiments_repositories", "experiment.experiment_id", "repository.repository_id"
)
experiments_dependencies = _association(
    "experiments_dependencies", "experiment.experiment_id", "dependency.dependency_id"
)

run = sa.Table(
    "run",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_id", RUN_ID, unique=True),
    sa.Column("command", sa.String(255)),
    sa.Column("start_time", _time(), index=True),
    sa.Column("heartbeat", _time()),
    sa.Column("lease_until", _time()),
    sa.Column("stop_time", _time()),
    sa.Column("queue_time", _time()),
    sa.Column("priority", sa.Double),
    sa.Column("comment", sa.Text),
    sa.Column("fail_trace", _long_text()),
    sa.Column("captured_out", _long_text()),
    sa.Column("config", _json()),
    sa.Column("info", _json()),
    sa.Column("meta", _json()),
    sa.Column("status", sa.String(64), index=True),
    sa.Column("host_id", sa.Integer, sa.ForeignKey("host.host_id")),
    sa.Column("experiment_id", sa.Integer, sa.ForeignKey("experiment.experiment_id")),
    sa.Column("result", _json()),
)

metrics = sa.Table(
    "metrics",
    metadata,
    sa.Column("id", _big_key(), primary_key=True),
    # No foreign key on purpose: its per-row check halves bulk inserts on PostgreSQL.
    sa.Column("run_id", RUN_ID, nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("step", sa.BigInteger),
    sa.Column("value", sa.Double),
    sa.Column("nonfinite", sa.String(9)),
    sa.Column("timestamp", _time()),
    sa.Index("ix_metrics_run_id_name", "run_id", "name"),
)

artifact = sa.Table(
    "artifact",
    metadata,
    sa.Column("artifact_id", sa.Integer, primary_key=True),
    sa.Column("filename", sa.String(1024)),
    sa.Column("content", _blob()),
    sa.Column("run_id", RUN_ID, sa.ForeignKey("run.run_id"), index=True),
    sa.Column("size", sa.BigInteger),
    sa.Column("md5sum", sa.String(32)),
    sa.Column("content_type", sa.String(255)),
    sa.Column("meta", _json()),
)
resource = sa.Table(
    "resource",
    metadata,
    sa.Column("resource_id", sa.Integer, primary_key=True),
    sa.Column("filename", sa.Text),
    sa.Column("md5sum", sa.String(32), index=True),
    sa.Column("content", _blob()),
    sa.Column("size", sa.BigInteger),
)
runs_resources = sa.Table(
    "runs_resources",
    metadata,
    sa.Column("run_id", RUN_ID, sa.ForeignKey("run.run_id"), index=True),
    sa.Column("resource_id", sa.Integer, sa.ForeignKey("resource.resource_id")),
)


def _chunks(name: str, owner: str) -> sa.Table:
    """The chunk table of files larger than :data:`CHUNK_SIZE` owned by ``owner``."""
    return sa.Table(
        name,
        metadata,
        sa.Column(owner.split(".")[1], sa.Integer, sa.ForeignKey(owner), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("data", _blob(), nullable=False),
    )


artifact_chunk = _chunks("artifact_chunk", "artifact.artifact_id")
resource_chunk = _chunks("resource_chunk", "resource.resource_id")

schema_table = sa.Table(
    "sacredlike_schema",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied_at", _time(), nullable=False),
)


def json_safe(value: Any, nul: bool = False) -> Any:
    """``value`` (flattened data) made storable in every JSON column.

    Datetimes become ISO strings; NaN and infinities become ``"nan"``, ``"inf"``,
    ``"-inf"`` (PostgreSQL's JSONB and MariaDB's JSON check reject bare ``NaN``); strings and
    keys are escaped by :func:`~sacredlike.text_escape.escape` (NUL too when ``nul``: PostgreSQL).
    """
    if isinstance(value, str):
        return escape(value, nul)
    if isinstance(value, float) and not math.isfinite(value):
        return nonfinite_text(value)
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {escape(k, nul): json_safe(v, nul) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v, nul) for v in value]
    return value


def nonfinite_text(value: float) -> str:
    """``"nan"``, ``"inf"`` or ``"-inf"`` for a non-finite float (``float()`` reads them back)."""
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def current_version(conn: sa.Connection) -> int | None:
    """The schema version of the database, or None when it holds no sacredlike tables."""
    if not sa.inspect(conn).has_table(schema_table.name):
        return None
    return conn.execute(sa.select(sa.func.max(schema_table.c.version))).scalar()


def create(conn: sa.Connection) -> None:
    """Create every table (those already present are kept) and record the version."""
    metadata.create_all(conn, checkfirst=True)
    _record_version(conn, SCHEMA_VERSION)


def upgrade(conn: sa.Connection, version: int) -> None:
    """Apply the migrations from ``version`` up to :data:`SCHEMA_VERSION`, in order."""
    for step in range(version, SCHEMA_VERSION):
        MIGRATIONS[step](conn)
        _record_version(conn, step + 1)


def _record_version(conn: sa.Connection, version: int) -> None:
    now = _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)
    conn.execute(sa.insert(schema_table).values(version=version, applied_at=now))
