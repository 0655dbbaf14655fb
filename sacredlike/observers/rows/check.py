"""What ``sacredlike check`` looks for in a SQL store.

* chunk rows of files whose ``artifact`` / ``resource`` row is gone (a transaction cut short
  on a database without transactional DDL, or rows deleted by hand). Repair: delete them,
  nothing can reach them;
* metric points whose run is not in the ``run`` table (reported, not deleted: they may be
  the only trace of a run).
"""

from __future__ import annotations

import sqlalchemy as sa

from ..base import Finding
from . import schema as tables


def check_rows(conn: sa.Connection, repair: bool = False) -> list[Finding]:
    """The findings in the database behind ``conn`` (repairs made when ``repair``)."""
    if tables.current_version(conn) is None:
        return []
    findings = []
    for chunks, owner in (
        (tables.artifact_chunk, tables.artifact),
        (tables.resource_chunk, tables.resource),
    ):
        key = next(iter(chunks.primary_key.columns))
        owned = sa.select(owner.c[key.name])
        orphans = sa.select(sa.func.count()).where(key.not_in(owned)).select_from(chunks)
        count = conn.execute(orphans).scalar()
        if count:
            finding = Finding(None, f"{count} {chunks.name} row(s) of no {owner.name} (orphaned)")
            if repair:
                conn.execute(sa.delete(chunks).where(key.not_in(owned)))
                finding.repaired = True
            findings.append(finding)
    metric, run = tables.metrics, tables.run
    lost = (
        sa.select(metric.c.run_id, sa.func.count())
        .where(metric.c.run_id.not_in(sa.select(run.c.run_id)))
        .group_by(metric.c.run_id)
    )
    for run_id, count in conn.execute(lost):
        findings.append(Finding(run_id, f"{count} metric point(s) of a run missing from 'run'"))
    return findings
