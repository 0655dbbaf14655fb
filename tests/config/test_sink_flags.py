"""Each registered sink flag attaches its observer type, built from the flag's value."""

from __future__ import annotations

from pathlib import Path

import pytest

from sacredlike.errors import MissingExtra
from sacredlike.registry import registered_sinks
from tests.service_helpers import service_missing

from .conftest import FAST


def sink(name: str):
    found = {s.name: s for s in registered_sinks()}
    if name not in found:
        pytest.fail(f"sink {name!r} is not registered")
    try:
        found[name].check_installed()
    except MissingExtra as error:
        service_missing(str(error))
    return found[name]


def attached(ex, options: dict):
    ex.main(lambda: None)
    run = ex.run(options={**FAST, "--unobserved": True, **options})
    return run.observers


def test_file_storage_flag(ex, tmp_path):
    [observer] = attached(ex, {"--file_storage": str(tmp_path / "runs")})
    assert type(observer) is sink("file_storage").observer_class()
    assert Path(observer.basedir) == tmp_path / "runs"


def test_sql_flag(ex, tmp_path):
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    [observer] = attached(ex, {"--sql": url})
    assert type(observer) is sink("sql").observer_class()
    assert observer.engine.url.render_as_string() == url and observer.priority == 40


@pytest.mark.parametrize(
    ("value", "url", "priority"),
    [
        ("exps", "mongodb://localhost:27017/exps", 30),
        # Sacred's form: .pre is the runs collection, shown in the -m form that names it
        ("example.org:27018:exps.pre!7", "example.org:27018:exps.pre", 7),
        ("mongodb://example.org:27019/other", "mongodb://example.org:27019/other", 30),
    ],
)
def test_mongo_flag(ex, value, url, priority):
    [observer] = attached(ex, {"--mongo_db": value})
    assert type(observer) is sink("mongo").observer_class()
    assert observer.url == url and observer.priority == priority


def test_several_flags_attach_in_registry_order(ex, tmp_path):
    sink("sql")
    observers = attached(
        ex, {"--file_storage": str(tmp_path / "f"), "--sql": f"sqlite:///{tmp_path / 'r.db'}"}
    )
    assert [type(o).__name__ for o in observers] == ["FileStorageObserver", "SqlObserver"]
