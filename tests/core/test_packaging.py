"""Packaging promises: a light import, every registered sink loadable, the registry's rules."""

from __future__ import annotations

import importlib
import importlib.metadata
import subprocess
import sys

import pytest

from sacredlike.errors import MissingExtra, UnknownSink
from sacredlike.registry import Sink, open_store, register_sink, registered_sinks, url_scheme
from sacredlike.sink_table import BUILTIN_SINKS, lazy_exports


def test_import_loads_no_sink_library():
    code = (
        "import sys, sacredlike, sacredlike.observers, sacredlike.observers.sql, "
        "sacredlike.observers.mongo, sacredlike.observers.tinydb_hashfs; "
        "print(sorted(m for m in ('sqlalchemy', 'pymongo', 'bson', 'gridfs', 'psycopg', "
        "'pymysql', 'yaml', 'numpy', 'tinydb', 'hashfs') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_every_registered_sink_loads_its_classes():
    sinks = registered_sinks()
    assert {"file_storage", "sql", "mongo"} <= {sink.name for sink in sinks}
    for sink in sinks:
        if sink.reader is not None:
            assert callable(sink.observer_class().from_flag)
            assert callable(sink.reader_class().from_url)
            assert sink.flag and sink.short_flag and sink.family


def test_the_sink_table_is_what_the_observers_package_exports():
    import sacredlike.observers as observers

    for name, module in lazy_exports().items():
        assert getattr(observers, name) is getattr(importlib.import_module(module), name)
    declared = {sink.name for sink in BUILTIN_SINKS}
    assert declared <= {sink.name for sink in registered_sinks()}


def test_every_extra_a_sink_names_is_in_the_package_metadata():
    metadata = importlib.metadata.metadata("sacredlike")
    extras = set(metadata.get_all("Provides-Extra") or [])
    (everything,) = [r for r in metadata.get_all("Requires-Dist") if r.endswith('extra == "all"')]
    for sink in BUILTIN_SINKS:
        if sink.extra:
            assert sink.extra in extras, sink.install_hint
            assert sink.extra in everything, "sacredlike[all] installs every sink"


def test_taken_schemes_and_flags_are_refused():
    with pytest.raises(ValueError, match="already belong to sink 'sql'"):
        register_sink(Sink(name="other_sql", observer="x:Y", schemes=("postgresql",)))
    with pytest.raises(ValueError, match="flag of sink 'other' already belongs"):
        register_sink(Sink(name="other", observer="x:Y", flag="--sql"))


def test_unknown_scheme_lists_the_registered_ones():
    with pytest.raises(UnknownSink, match=r"registered schemes: .*'mongodb'.*'sqlite'"):
        open_store("ftp://example.org/runs")
    assert url_scheme("runs/dir") == "file"
    assert url_scheme("mongodb+srv://host/db") == "mongodb"


def test_missing_library_names_the_extra():
    sink = Sink(name="fancy", observer="x:Y", extra="fancy", requires=("no_such_module_xyz",))
    with pytest.raises(MissingExtra, match=r'pip install "sacredlike\[fancy\]"'):
        sink.observer_class()


def test_a_deprecation_warning_from_sacredlike_code_fails_the_tests():
    """pyproject's filterwarnings: a DeprecationWarning attributed to a sacredlike module is
    an error (one attributed to other code stays a warning)."""
    raise_one = "import warnings\nwarnings.warn('old API', DeprecationWarning)\n"
    with pytest.raises(DeprecationWarning, match="old API"):
        exec(raise_one, {"__name__": "sacredlike.some_module"})
    with pytest.warns(DeprecationWarning):
        exec(raise_one, {"__name__": "other_package.module"})


def test_metric_timestamps_are_naive_utc_on_every_python():
    import datetime as dt

    from sacredlike.metrics_logger import MetricsLogger

    logger = MetricsLogger()
    before = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    logger.log_scalar("loss", 0.5)
    (batch,) = logger.drain()
    (stamp,) = batch["loss"]["timestamps"]
    assert stamp.tzinfo is None and abs((stamp - before).total_seconds()) < 5
