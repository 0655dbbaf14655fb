"""The writes of the rows family: one transaction per event, retried on lost connections.

:class:`RowStore` owns an engine; each public method is one event's transaction. A call
that fails with connection trouble is retried a few times with growing pauses
(:data:`RETRY_DELAYS`, reconnecting on the way); then it raises
:class:`~sacredlike.errors.SinkUnavailable` and the observer keeps what was not written for
its next event. Table layout: :mod:`sacredlike.observers.rows.schema`.
"""

from __future__ import annotations

import collections
import hashlib
import io
import itertools
import json
import logging
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from typing import Any, BinaryIO, TypeVar

import sqlalchemy as sa
from sqlalchemy import exc

from ...dependencies import file_md5, present_source
from ...errors import SinkRejected, SinkUnavailable
from ...text_escape import escape
from ..base import canonical_int
from . import schema as tables
from .engine import exclusive, masked_url, translate
from .metrics import insert_isolating, metric_rows
from .schema import json_safe

logger = logging.getLogger(__name__)

RETRY_DELAYS = (0.1, 0.5, 2.0)
"""Pauses (seconds) between the attempts of one event's transaction."""

_T = TypeVar("_T")
_DIRECT = (
    "command",
    "start_time",
    "queue_time",
    "heartbeat",
    "lease_until",
    "stop_time",
    "status",
)
_JSON_FIELDS = ("config", "info", "result")


class RowStore:
    """The database side of one SQL observer.

    Args:
        engine: a SQLAlchemy engine (see :func:`~.engine.open_engine`).
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.shown_url = masked_url(engine)
        self.nul = engine.dialect.name == "postgresql"  # refuses NUL in text and JSON
        self._packet_limit: int | None = None

    @property
    def packet_limit(self) -> int:
        """Most bytes one statement, and so one value, may take on this server.

        MariaDB/MySQL: ``@@max_allowed_packet``, read from the server; PostgreSQL: the
        largest ``jsonb`` value (2**28 bytes; text columns take up to 1 GB); SQLite: its
        default 10**9-byte string limit.
        """
        if self._packet_limit is None:
            limit = 10**9 if self.engine.dialect.name == "sqlite" else 1 << 28
            if self.engine.dialect.name in tables.MYSQL_DIALECTS:
                query = sa.text("SELECT @@max_allowed_packet")
                limit = int(self.transaction("read max_allowed_packet", lambda c: c.scalar(query)))
            self._packet_limit = limit - (1 << 16)  # room for the rest of the statement
        return self._packet_limit

    @property
    def output_limit(self) -> int:
        """Most characters of captured output the ``captured_out`` column takes here.

        A quarter of :attr:`packet_limit`: ``CONCAT``'s result must fit one packet, at up to
        4 bytes a character.
        """
        return self.packet_limit // 4

    @property
    def json_budget(self) -> int:
        """Most bytes of JSON ``config``, ``info`` and ``result`` take in one statement.

        Half of :attr:`packet_limit`; values beyond it are stored as files of the run
        (:mod:`sacredlike.observers.oversized`).
        """
        return self.packet_limit // 2

    # -- transactions -------------------------------------------------------------------
    def transaction(
        self, what: str, work: Callable[[sa.Connection], _T], locked: bool = False
    ) -> _T:
        """Run ``work(conn)`` in one transaction (holding the family lock if ``locked``).

        Raises:
            SinkUnavailable: the database stayed unreachable through every retry.
            SinkRejected: the database refused the statements.
        """
        attempt = 0
        while True:
            try:
                opened = exclusive(self.engine) if locked else self.engine.begin()
                with opened as conn:
                    return work(conn)
            except exc.DBAPIError as error:
                failure = translate(error, self.shown_url, what)
                if attempt >= len(RETRY_DELAYS) or not isinstance(failure, SinkUnavailable):
                    raise failure from error
                delay = RETRY_DELAYS[attempt]
                attempt += 1
                logger.warning("%s; retrying in %.1f s", failure, delay)
                time.sleep(delay)

    def ensure_schema(self) -> None:
        """Create the tables if missing (safe when many processes start at once).

        Raises:
            SinkRejected: the database holds Sacred's own tables or a newer schema.
        """
        if self.transaction("read the schema version", tables.current_version) == (
            tables.SCHEMA_VERSION
        ):
            return
        self.transaction("create the tables", self._create_or_upgrade, locked=True)

    def _create_or_upgrade(self, conn: sa.Connection) -> None:
        version = tables.current_version(conn)
        if version is None:
            if sa.inspect(conn).has_table(tables.run.name):
                raise SinkRejected(
                    f"SQL store {self.shown_url} holds a 'run' table without sacredlike's "
                    "schema version (a Sacred 0.8 database?); use a new database or schema"
                )
            tables.create(conn)
        elif version < tables.SCHEMA_VERSION:
            tables.upgrade(conn, version)
        elif version > tables.SCHEMA_VERSION:
            raise SinkRejected(
                f"SQL store {self.shown_url} has schema version {version}, newer than the "
                f"{tables.SCHEMA_VERSION} this sacredlike knows; upgrade sacredlike"
            )

    # -- runs ---------------------------------------------------------------------------
    def add_run(self, fields: Mapping[str, Any], preset_id: Any) -> int:
        """Insert a run (started or queued) with its experiment and host rows.

        Args:
            fields: the :class:`~sacredlike.record.RunRecord` fields.
            preset_id: the run id chosen elsewhere, or None to let the database allocate it.

        Returns:
            The run's ``run.id`` (equal to the run id when ``preset_id`` is None).
        """

        def work(conn: sa.Connection) -> int:
            values = run_values(fields, self.nul)
            values["experiment_id"] = _experiment_id(conn, fields.get("experiment") or {}, self.nul)
            values["host_id"] = _host_id(conn, fields.get("host") or {}, self.nul)
            numeric = canonical_int(preset_id)
            if preset_id is not None:
                values["run_id"] = str(preset_id)
            if numeric is not None:
                values["id"] = numeric
            key = conn.execute(sa.insert(tables.run).values(values)).inserted_primary_key[0]
            if preset_id is None:
                update = sa.update(tables.run).where(tables.run.c.id == key)
                conn.execute(update.values(run_id=str(key)))
            elif numeric is not None and conn.dialect.name == "postgresql":
                conn.execute(
                    sa.text(
                        "SELECT setval(pg_get_serial_sequence('run', 'id'), "
                        "(SELECT MAX(id) FROM run))"
                    )
                )
            return int(key)

        return self.transaction("insert the run", work, locked=True)

    def update_run(self, key: int, fields: Mapping[str, Any], output: Any = None) -> None:
        """Update the changed ``fields`` of run ``key`` and apply an output delta.

        Args:
            key: the run's ``run.id``.
            fields: changed :class:`~sacredlike.record.RunRecord` fields.
            output: an :class:`~sacredlike.record.OutputDelta` or None.
        """
        values = run_values(fields, self.nul)
        if output is not None:
            column = tables.run.c.captured_out
            text = escape(output.text, self.nul)
            values["captured_out"] = text if output.rewrite else sa.func.coalesce(column, "") + text
        if not values:
            return
        statement = sa.update(tables.run).where(tables.run.c.id == key).values(values)
        self.transaction("update the run", lambda conn: conn.execute(statement))

    def stored_run(self, run_id: Any) -> tuple[int, dict[str, int]]:
        """The ``run.id`` of run ``run_id`` and its stored point count per metric.

        Raises:
            SinkRejected: the database holds no run ``run_id``.
        """

        def work(conn: sa.Connection) -> tuple[int, dict[str, int]]:
            run = tables.run
            key = conn.execute(sa.select(run.c.id).where(run.c.run_id == str(run_id))).scalar()
            if key is None:
                raise SinkRejected(f"no run {run_id!r} in SQL store {self.shown_url} to resume")
            return int(key), _metric_counts(conn, str(run_id))

        return self.transaction("load the run", work)

    # -- metrics ------------------------------------------------------------------------
    def metric_counts(self, run_id: str) -> dict[str, int]:
        """The number of stored points of each metric of run ``run_id``."""
        return self.transaction("count metric points", lambda conn: _metric_counts(conn, run_id))

    def add_metrics(
        self,
        run_id: str,
        metrics_by_name: Mapping[str, Mapping[str, Any]],
        stored: Mapping[str, int],
    ) -> dict[str, int]:
        """Insert every storable point of ``metrics_by_name`` in one bulk transaction, once.

        ``stored`` counts the points of each metric stored before; the counts after are
        returned. A try repeated after a lost connection first counts again: if the counts
        moved, the earlier try was committed (only its acknowledgement was lost) and nothing
        is inserted twice. Points the rule of :mod:`sacredlike.metric_values` or the database
        refuses are left out and reported in one WARNING (their count and the first reason);
        the others are stored, so one bad point never costs the good ones.
        """
        refused: list[str] = []
        rows = list(metric_rows(run_id, metrics_by_name, refused))
        before = {name: count for name, count in stored.items() if count}
        tries = itertools.count()

        def work(conn: sa.Connection) -> dict[str, int]:
            if next(tries):
                counts = _metric_counts(conn, run_id)
                if counts != before:
                    return counts
            left_out[:] = insert_isolating(conn, rows)
            if left_out:
                return _metric_counts(conn, run_id)
            return dict(collections.Counter(before) + collections.Counter(r[1] for r in rows))

        left_out: list[str] = []
        after = self.transaction("insert metrics", work) if rows else dict(before)
        refused += left_out
        if refused:
            logger.warning(
                "SQL store %s: %d metric point(s) of run %s refused and not stored: %s",
                self.shown_url,
                len(refused),
                run_id,
                refused[0],
            )
        return after

    # -- files --------------------------------------------------------------------------
    def add_artifact(
        self,
        run_id: str,
        name: str,
        path: str | BinaryIO,
        metadata: Any = None,
        content_type: str | None = None,
    ) -> None:
        """Store the file at ``path`` (or a binary stream) as artifact ``name`` of the run.

        An artifact of the same name is replaced.
        """
        owner = tables.artifact

        def work(conn: sa.Connection) -> None:
            same = sa.select(owner.c.artifact_id).where(
                owner.c.run_id == run_id, owner.c.filename == name
            )
            old = [row[0] for row in conn.execute(same)]
            if old:
                chunk = tables.artifact_chunk
                conn.execute(sa.delete(chunk).where(chunk.c.artifact_id.in_(old)))
                conn.execute(sa.delete(owner).where(owner.c.artifact_id.in_(old)))
            values = {
                "run_id": run_id,
                "filename": name,
                "content_type": content_type,
                "meta": json_safe(metadata, self.nul),
            }
            key = conn.execute(sa.insert(owner).values(values)).inserted_primary_key[0]
            if not isinstance(path, str):
                path.seek(0)  # a retried transaction reads the stream again
            with open(path, "rb") if isinstance(path, str) else nullcontext(path) as handle:
                stored = _store_file(conn, tables.artifact_chunk, key, handle)
            conn.execute(sa.update(owner).where(owner.c.artifact_id == key).values(stored))

        self.transaction(f"store artifact {name!r}", work)

    def add_text_artifact(self, run_id: str, name: str, text: str, content_type: str) -> None:
        """Store ``text`` (UTF-8, lone surrogates kept) as artifact ``name`` of the run."""
        data = io.BytesIO(text.encode("utf-8", "surrogatepass"))
        self.add_artifact(run_id, name, data, content_type=content_type)

    def add_resource(self, run_id: str, path: str) -> None:
        """Link the file at ``path`` to the run as a resource, storing it once per content."""
        md5 = file_md5(path)
        owner = tables.resource

        def work(conn: sa.Connection) -> None:
            same = sa.select(owner.c.resource_id).where(
                owner.c.filename == path, owner.c.md5sum == md5
            )
            key = conn.execute(same.limit(1)).scalar()
            if key is None:
                added = sa.insert(owner).values(filename=path, md5sum=md5)
                key = conn.execute(added).inserted_primary_key[0]
                with open(path, "rb") as handle:
                    stored = _store_file(conn, tables.resource_chunk, key, handle)
                stored.pop("md5sum")
                conn.execute(sa.update(owner).where(owner.c.resource_id == key).values(stored))
            link = tables.runs_resources
            linked = sa.select(link.c.run_id).where(
                link.c.run_id == run_id, link.c.resource_id == key
            )
            if conn.execute(linked).first() is None:
                conn.execute(sa.insert(link).values(run_id=run_id, resource_id=key))

        self.transaction(f"store resource {path!r}", work)


# -- values ------------------------------------------------------------------------------
def run_values(fields: Mapping[str, Any], nul: bool = False) -> dict[str, Any]:
    """The ``run`` columns for RunRecord ``fields`` (experiment, host and files go elsewhere).

    Text is escaped by :func:`~sacredlike.text_escape.escape` (NUL too when ``nul``).
    """
    values = {key: _text(fields[key], nul) for key in _DIRECT if key in fields}
    values.update((key, json_safe(fields[key], nul)) for key in _JSON_FIELDS if key in fields)
    if "fail_trace" in fields:
        trace = fields["fail_trace"]
        values["fail_trace"] = None if trace is None else escape("".join(trace), nul)
    if "meta" in fields:
        meta = fields["meta"] or {}
        priority = meta.get("priority")
        comment = meta.get("comment")
        values.update(
            meta=json_safe(meta, nul),
            comment=_text(comment, nul) if isinstance(comment, str) else None,
            priority=float(priority) if isinstance(priority, (int, float)) else None,
        )
    return values


def _text(value: Any, nul: bool) -> Any:
    """``value`` escaped (:func:`~sacredlike.text_escape.escape`) if it is a string."""
    return escape(value, nul) if isinstance(value, str) else value


def _store_file(
    conn: sa.Connection, chunks: sa.Table, key: int, handle: BinaryIO
) -> dict[str, Any]:
    """Store the bytes of an open file for owner ``key``: inline if small, else chunk by chunk.

    At most three chunks are in memory at a time, whatever the file's size.

    Returns:
        The owner columns to set: ``content`` (None when chunked), ``size`` and ``md5sum``.
    """
    owner_column = next(iter(chunks.primary_key.columns)).name
    blocks = iter(lambda: handle.read(tables.CHUNK_SIZE), b"")
    first, second = next(blocks, b""), next(blocks, b"")
    if not second:
        md5 = hashlib.md5(first).hexdigest()
        return {"content": first, "size": len(first), "md5sum": md5}
    digest, size = hashlib.md5(), 0
    for seq, block in enumerate(itertools.chain((first, second), blocks)):
        digest.update(block)
        size += len(block)
        row = {owner_column: key, "seq": seq, "data": block}
        conn.execute(sa.insert(chunks).values(row))
    return {"content": None, "size": size, "md5sum": digest.hexdigest()}


# -- experiment and host rows --------------------------------------------------------------
def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.md5(text.encode()).hexdigest()


def _get_or_create(
    conn: sa.Connection,
    table: sa.Table,
    key: Mapping[str, Any],
    more: Callable[[], Mapping[str, Any]] = dict,
) -> tuple[int, bool]:
    """The primary key of the row of ``table`` matching ``key``, inserted if missing.

    Callers hold the family lock, so select-then-insert cannot race.

    Returns:
        ``(primary key, whether the row was created now)``.
    """
    pk = next(iter(table.primary_key.columns))
    match = sa.select(pk).where(*(table.c[name] == value for name, value in key.items()))
    found = conn.execute(match.limit(1)).scalar()
    if found is not None:
        return found, False
    inserted = conn.execute(sa.insert(table).values({**key, **more()}))
    return inserted.inserted_primary_key[0], True


def _experiment_id(conn: sa.Connection, ex_info: Mapping[str, Any], nul: bool) -> int:
    key = {"md5sum": _digest(ex_info)}
    experiment_id, created = _get_or_create(
        conn,
        tables.experiment,
        key,
        lambda: {
            "name": json_safe(ex_info.get("name"), nul),
            "base_dir": json_safe(ex_info.get("base_dir"), nul),
            "ex_info": json_safe(dict(ex_info), nul),
        },
    )
    if created:
        _link_experiment_parts(conn, experiment_id, ex_info)
    return experiment_id


def _link_experiment_parts(
    conn: sa.Connection, experiment_id: int, ex_info: Mapping[str, Any]
) -> None:
    base_dir = ex_info.get("base_dir") or ""
    links: list[tuple[sa.Table, int]] = []
    for filename, md5 in ex_info.get("sources") or ():
        source_id, _ = _get_or_create(
            conn,
            tables.source,
            {"filename": filename, "md5sum": md5},
            lambda filename=filename: {"content": _read_source(base_dir, filename)},
        )
        links.append((tables.experiments_sources, source_id))
    for requirement in ex_info.get("dependencies") or ():
        name, _, version = str(requirement).partition("==")
        dependency_id, _ = _get_or_create(
            conn, tables.dependency, {"name": name, "version": version}
        )
        links.append((tables.experiments_dependencies, dependency_id))
    for repo in ex_info.get("repositories") or ():
        repo_key = {"url": repo.get("url"), "commit": repo.get("commit")}
        repository_id, _ = _get_or_create(
            conn, tables.repository, {**repo_key, "dirty": bool(repo.get("dirty"))}
        )
        links.append((tables.experiments_repositories, repository_id))
    for link, other_id in links:
        other = next(c.name for c in link.columns if c.name != "experiment_id")
        conn.execute(sa.insert(link).values({"experiment_id": experiment_id, other: other_id}))


def _read_source(base_dir: str, filename: str) -> str | None:
    path = present_source(base_dir, filename)
    if path is None:
        return None
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read()


def _host_id(conn: sa.Connection, host_info: Mapping[str, Any], nul: bool) -> int:
    system = host_info.get("os")
    if isinstance(system, (list, tuple)) and len(system) == 2:
        os_name, os_info = system
    else:
        os_name, os_info = system, None
    host_id, _ = _get_or_create(
        conn,
        tables.host,
        {"md5sum": _digest(host_info)},
        lambda: {
            "hostname": host_info.get("hostname"),
            "cpu": host_info.get("cpu"),
            "os": os_name,
            "os_info": os_info,
            "python_version": host_info.get("python_version"),
            "host_info": json_safe(dict(host_info), nul),
        },
    )
    return host_id


def _metric_counts(conn: sa.Connection, run_id: str) -> dict[str, int]:
    metric = tables.metrics
    counts = sa.select(metric.c.name, sa.func.count()).where(metric.c.run_id == run_id)
    return {name: int(count) for name, count in conn.execute(counts.group_by(metric.c.name))}
