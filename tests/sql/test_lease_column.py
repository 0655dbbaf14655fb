"""Schema version 2: a version-1 database gains ``run.lease_until`` when an observer opens it."""

from __future__ import annotations

import datetime as _dt

from sacredlike import open_store
from sacredlike.observers.sql import SqlObserver

from .helpers import start


def test_a_version_1_database_is_upgraded_and_stores_leases(db, observer):
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE run DROP COLUMN lease_until")
        conn.exec_driver_sql("UPDATE sacredlike_schema SET version = 1")
    upgraded = SqlObserver(db.url)
    try:
        run_id = start(upgraded)
        beat = _dt.datetime(2024, 1, 1, 12, 0, 0)
        lease = beat + _dt.timedelta(seconds=40)
        upgraded.heartbeat_event(
            info={}, captured_out="", beat_time=beat, result=None, lease_until=lease
        )
    finally:
        upgraded.engine.dispose()
    assert db.scalar("SELECT MAX(version) FROM sacredlike_schema") == 2
    with open_store(db.url) as store:
        stored = store.get_run(run_id)
    assert stored.lease_until == lease and stored.status == "DEAD"
