"""Reading runs back from the rows family's tables (the reader of the SQL sink).

Filters of a :class:`~sacredlike.observers.base.RunQuery` run in SQL where the databases
agree on their meaning: status, start-time bounds, newest-first order and the limit; the
experiment regex is matched in Python against the (few) experiment names, then pushed down as
a name list; config values are pushed down as JSON tests (``@>`` on PostgreSQL,
``JSON_CONTAINS`` on MariaDB, ``json_extract`` on SQLite) for strings and numbers, and every
config filter is re-checked in Python with :meth:`RunQuery.matches`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from ...errors import RunNotFound
from ...text_escape import unescape_json
from ..base import Finding, MetricSeries, RunQuery, RunReader, StoredRun, public_run_id
from ..oversized import MOVABLE_FIELDS, noted_file
from . import schema as tables
from .check import check_rows
from .engine import masked_url, open_engine, parse_url, translated
from .writer import FIELD_FILES, OUTPUT_COPY, OUTPUT_NOTE

_LISTED = (
    tables.run.c.id,
    tables.run.c.run_id,
    tables.run.c.command,
    tables.run.c.status,
    tables.run.c.config,
    tables.run.c.info,
    tables.run.c.meta,
    tables.run.c.result,
    tables.run.c.start_time,
    tables.run.c.stop_time,
    tables.run.c.heartbeat,
    tables.run.c.queue_time,
    tables.run.c.lease_until,
    tables.run.c.fail_trace,
    tables.experiment.c.name,
    tables.experiment.c.ex_info,
    tables.host.c.host_info,
)
_RUN_KEY = sa.select(tables.run.c.id)


class RowsReader(RunReader):
    """Reads runs stored by :class:`~sacredlike.observers.sql.SqlObserver`.

    Args:
        engine: a SQLAlchemy engine on the database.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._shown = masked_url(engine)

    @contextmanager
    def _connect(self, what: str) -> Iterator[sa.Connection]:
        """A connection whose driver errors become SinkUnavailable / SinkRejected."""
        with translated(self._shown, what), self.engine.connect() as conn:
            yield conn

    @classmethod
    def from_url(cls, url: str) -> RowsReader:
        """Open a reader on the database at ``url`` (same URLs as ``SqlObserver``).

        Raises:
            ObserverError: malformed URL. MissingExtra: driver not installed.
            SinkUnavailable: the database refuses the connection.
            FileNotFoundError: no SQLite file at the URL's path (reading never creates one).
        """
        parsed = parse_url(url)
        path = parsed.database if parsed.get_backend_name() == "sqlite" else None
        if path not in (None, "", ":memory:") and not os.path.isfile(path):
            raise FileNotFoundError(f"no SQLite database at {path!r}")
        return cls(open_engine(url))

    def close(self) -> None:
        """Close the reader's database connections."""
        self.engine.dispose()

    def check(self, repair: bool = False) -> list[Finding]:
        """Orphaned file chunks (deleted on repair) and metric points without their run."""
        with translated(self._shown, "check the store"), self.engine.begin() as conn:
            return check_rows(conn, repair)

    # -- runs ---------------------------------------------------------------------------
    def find_runs(self, query: RunQuery | None = None) -> list[StoredRun]:
        """Runs matching ``query``, newest start (or queue time) first; no captured output."""
        query = query or RunQuery()
        with self._connect("list runs") as conn:
            if tables.current_version(conn) is None:
                return []
            statement = self._filtered(conn, query)
            if statement is None:
                return []
            found: list[StoredRun] = []
            for row in conn.execute(statement):
                stored = self._restore_fields(_stored_run(row))
                if query.matches(stored):
                    found.append(stored)
                if query.limit is not None and len(found) >= query.limit:
                    break
            _attach_artifacts(conn, found)
        return found

    def _filtered(self, conn: sa.Connection, query: RunQuery) -> sa.Select | None:
        run = tables.run
        statement = _runs_select(_LISTED)
        if query.experiment is not None:
            names = conn.execute(sa.select(tables.experiment.c.name).distinct()).scalars()
            wanted = [name for name in names if re.search(query.experiment, name or "")]
            if not wanted:
                return None
            statement = statement.where(tables.experiment.c.name.in_(wanted))
        statuses = query.store_statuses()
        if statuses is not None:
            statement = statement.where(run.c.status.in_(statuses))
        if query.started_after is not None:
            statement = statement.where(run.c.start_time >= query.started_after)
        if query.started_before is not None:
            statement = statement.where(run.c.start_time < query.started_before)
        for key, value in query.config.items():
            clause = _config_test(conn.dialect.name, key, value)
            if clause is not None:
                statement = statement.where(clause)
        newest = sa.func.coalesce(run.c.start_time, run.c.queue_time)
        statement = statement.order_by(newest.desc(), run.c.id.desc())
        if query.store_limit() is not None and not query.config:
            statement = statement.limit(query.store_limit())
        return statement

    def get_run(self, run_id: Any) -> StoredRun:
        """One run with its captured output and artifact names.

        Raises:
            RunNotFound: no run ``run_id``.
        """
        statement = _runs_select((*_LISTED, tables.run.c.captured_out))
        with self._connect(f"read run {run_id!r}") as conn:
            stored = self._restore_fields(_stored_run(self._run_row(conn, run_id, statement)))
            _attach_artifacts(conn, [stored])
        if (stored.captured_out or "").startswith("[") and OUTPUT_NOTE in stored.captured_out:
            copy = self.get_artifact(run_id, OUTPUT_COPY)
            stored.captured_out = copy.decode("utf-8", "surrogatepass")
        return stored

    def _restore_fields(self, stored: StoredRun) -> StoredRun:
        """Put back the fields the writer moved to files (:mod:`..oversized`)."""
        for field in MOVABLE_FIELDS:
            name = noted_file(getattr(stored, field))
            if name in FIELD_FILES:
                text = self.get_artifact(stored.id, name).decode("utf-8", "surrogatepass")
                setattr(stored, field, unescape_json(json.loads(text)))
        return stored

    def _run_row(self, conn: sa.Connection, run_id: Any, statement: sa.Select = _RUN_KEY) -> sa.Row:
        """The row ``statement`` selects for run ``run_id`` (by default its ``run.id``).

        Raises:
            RunNotFound: the database holds no run ``run_id`` (or no sacredlike tables).
        """
        row = None
        if tables.current_version(conn) is not None:
            row = conn.execute(statement.where(tables.run.c.run_id == str(run_id))).first()
        if row is None:
            raise RunNotFound(f"no run {run_id!r} in {self._shown}")
        return row

    # -- metrics ------------------------------------------------------------------------
    def get_metrics(
        self, run_id: Any, names: Iterable[str] | None = None
    ) -> dict[str, MetricSeries]:
        """Every point of the run's metrics (only ``names`` when given), in logging order.

        Raises:
            RunNotFound: no run ``run_id``.
        """
        m = tables.metrics
        statement = sa.select(m.c.name, m.c.step, m.c.value, m.c.nonfinite, m.c.timestamp)
        statement = statement.where(m.c.run_id == str(run_id)).order_by(m.c.id)
        if names is not None:
            statement = statement.where(m.c.name.in_(list(names)))
        series: dict[str, MetricSeries] = {}
        with self._connect(f"read the metrics of run {run_id!r}") as conn:
            self._run_row(conn, run_id)
            for name, step, value, nonfinite, stamp in conn.execute(statement):
                entry = series.get(name)
                if entry is None:
                    entry = series[name] = MetricSeries(name)
                entry.steps.append(step)
                entry.values.append(float(nonfinite) if nonfinite else value)
                entry.timestamps.append(stamp)
        return series

    # -- artifacts ----------------------------------------------------------------------
    def get_artifact(self, run_id: Any, name: str) -> bytes:
        """The content of artifact ``name`` of the run.

        Raises:
            RunNotFound: no run ``run_id``. FileNotFoundError: the run has no such artifact.
        """
        return b"".join(self.iter_artifact(run_id, name))

    def iter_artifact(self, run_id: Any, name: str) -> Iterator[bytes]:
        """The content of artifact ``name`` piece by piece (one chunk in memory at a time).

        Raises:
            RunNotFound: no run ``run_id``. FileNotFoundError: the run has no such artifact.
        """
        a, chunk = tables.artifact, tables.artifact_chunk
        with self._connect(f"read artifact {name!r} of run {run_id!r}") as conn:
            self._run_row(conn, run_id)
            statement = (
                sa.select(a.c.artifact_id, a.c.content)
                .where(a.c.run_id == str(run_id), a.c.filename == name)
                .order_by(a.c.artifact_id.desc())
            )
            row = conn.execute(statement).first()
            if row is None:
                raise FileNotFoundError(f"run {run_id!r} has no artifact {name!r}")
            key, content = row
            if content is not None:
                yield bytes(content)
                return
            seqs = conn.execute(
                sa.select(chunk.c.seq).where(chunk.c.artifact_id == key).order_by(chunk.c.seq)
            ).scalars()
            for seq in list(seqs):
                data = sa.select(chunk.c.data).where(chunk.c.artifact_id == key, chunk.c.seq == seq)
                yield bytes(conn.execute(data).scalar_one())


def _runs_select(columns: Iterable[Any]) -> sa.Select:
    joined = tables.run.outerjoin(tables.experiment).outerjoin(tables.host)
    return sa.select(*columns).select_from(joined)


def _stored_run(row: Any) -> StoredRun:
    mapping: Mapping[str, Any] = row._mapping
    trace = unescape_json(mapping["fail_trace"])
    output = mapping.get("captured_out")
    return StoredRun(
        id=public_run_id(mapping["run_id"]),
        experiment_name=unescape_json(mapping["name"]),
        status=mapping["status"],
        command=unescape_json(mapping["command"]),
        config=unescape_json(mapping["config"] or {}),
        info=unescape_json(mapping["info"] or {}),
        result=unescape_json(mapping["result"]),
        start_time=mapping["start_time"],
        stop_time=mapping["stop_time"],
        heartbeat=mapping["heartbeat"],
        queue_time=mapping["queue_time"],
        host=unescape_json(mapping["host_info"] or {}),
        meta=unescape_json(mapping["meta"] or {}),
        experiment=unescape_json(mapping["ex_info"] or {}),
        fail_trace=trace.splitlines(keepends=True) if trace is not None else None,
        captured_out=unescape_json(output),
        lease_until=mapping["lease_until"],
    )


def _attach_artifacts(conn: sa.Connection, runs: list[StoredRun]) -> None:
    if not runs:
        return
    by_id = {str(stored.id): stored for stored in runs}
    a = tables.artifact
    statement = (
        sa.select(a.c.run_id, a.c.filename)
        .where(a.c.run_id.in_(list(by_id)))
        .order_by(a.c.artifact_id)
    )
    for run_id, filename in conn.execute(statement):
        # the whole output and moved fields are read back in place, not as artifacts
        if filename != OUTPUT_COPY and filename not in FIELD_FILES:
            by_id[run_id].artifacts.append(filename)


def _config_test(dialect: str, dotted_key: str, value: Any) -> Any:
    """A SQL test that keeps every run whose config entry may equal ``value``, or None."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    config = tables.run.c.config
    parts = dotted_key.split(".")
    if dialect == "postgresql":
        nested: Any = value
        for part in reversed(parts):
            nested = {part: nested}
        return sa.type_coerce(config, postgresql.JSONB).contains(nested)
    path = "$" + "".join('."{}"'.format(part.replace('"', '\\"')) for part in parts)
    if dialect in tables.MYSQL_DIALECTS:
        return sa.func.json_contains(config, json.dumps(value), path) == 1
    return sa.func.json_extract(config, path) == value
