"""The SQL sink as the registry, the command line and open_store() see it."""

from __future__ import annotations

import threading

import pytest

from sacredlike.errors import ObserverError
from sacredlike.observers.sql import SqlObserver, SqlReader
from sacredlike.registry import open_store, sink_for_scheme, url_scheme

from .helpers import start


def test_schemes_flag_and_reader_are_registered(db):
    sink = sink_for_scheme(url_scheme(db.url))
    assert sink.name == "sql" and (sink.flag, sink.short_flag) == ("--sql", "-s")
    observer = sink.observer_from_flag(db.url)
    assert isinstance(observer, SqlObserver) and observer.priority == 40
    run_id = start(observer)
    with open_store(db.url) as reader:
        assert isinstance(reader, SqlReader)
        assert [run.id for run in reader.find_runs()] == [run_id]
    observer.engine.dispose()


def test_create_from_an_engine(db):
    observer = SqlObserver.create_from(db.engine, session=None, priority=5)
    assert observer.priority == 5 and observer.engine is db.engine
    assert start(observer) == 1


@pytest.mark.parametrize("arguments", [{}, {"url": "sqlite://", "engine": object()}])
def test_needs_exactly_one_of_url_and_engine(arguments):
    with pytest.raises(ObserverError, match="exactly one"):
        SqlObserver(**arguments)


def test_in_memory_sqlite_is_one_database_across_threads():
    observer = SqlObserver("sqlite://")
    run_id = start(observer)
    thread = threading.Thread(
        target=observer.completed_event, kwargs={"stop_time": None, "result": 3}
    )
    thread.start()
    thread.join()
    reader = SqlReader(observer.engine)
    assert reader.get_run(run_id).result == 3


def test_public_names():
    import sacredlike.observers as observers
    import sacredlike.observers.sql as sql

    assert {"SqlObserver", "SqlReader"} <= set(dir(sql))
    assert observers.SqlObserver is SqlObserver and observers.SqlReader is SqlReader
    with pytest.raises(AttributeError, match="NoSuchThing"):
        sql.NoSuchThing  # noqa: B018


def test_observers_on_one_database_are_equal(tmp_path):
    """Sacred's SqlObserver compares what it stores to; ours compares the database URL."""
    url = f"sqlite:///{tmp_path / 'a.db'}"
    first, again = SqlObserver(url), SqlObserver(url)
    other = SqlObserver(f"sqlite:///{tmp_path / 'b.db'}")
    assert first == again and hash(first) == hash(again)
    assert first != other and len({first, again, other}) == 2
    for observer in (first, again, other):
        observer.engine.dispose()
