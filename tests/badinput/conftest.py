"""The bad-input corpus over every sink: files, SQLite, PostgreSQL, MariaDB and MongoDB.

``store`` is one fresh store of each kind in turn (the SQL ones from ``tests/sql``'s
fixtures, MongoDB on SecantusDB as in ``tests/mongo``). Every case first records a good
``baseline`` run in it and checks at the end, with :func:`assert_intact`, that the bad input
left that run exactly as it was.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sacredlike import Experiment, open_store
from tests.mongo.conftest import mongo_server  # noqa: F401  (fixture)
from tests.sql.conftest import mariadb_db, postgresql_db, sqlite_db  # noqa: F401  (fixtures)

SINKS = ("files", "sqlite", "postgresql", "mariadb", "mongo")
FAST = {"--capture": "sys", "--beat-interval": 0.05}
"""Run options for the corpus: Python-level capture, quick beats."""


@dataclass
class Store:
    """One scratch store of a kind, with what the corpus needs to write and read it.

    Attributes:
        kind: one of :data:`SINKS`.
        url: what ``open_store`` and the sink's command-line flag take.
        flag: the sink's short command-line flag (``-F``, ``-s``, ``-m``).
    """

    kind: str
    url: str
    flag: str
    _made: list[Any] = field(default_factory=list, repr=False)

    def observer(self) -> Any:
        """A new observer writing to this store (closed at the end of the test)."""
        from sacredlike.registry import registered_sinks

        sink = next(s for s in registered_sinks() if s.short_flag == self.flag)
        made = sink.observer_from_flag(self.url)
        self._made.append(made)
        return made

    def reader(self) -> Any:
        """A reader on this store (a context manager)."""
        return open_store(self.url)

    def close(self) -> None:
        """Close every observer made for the test."""
        for made in self._made:
            engine = getattr(made, "engine", None)
            if engine is not None:
                engine.dispose()
            store = getattr(made, "store", None)
            if hasattr(store, "close"):
                store.close()


@pytest.fixture(params=SINKS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh store of each kind in turn."""
    kind = request.param
    if kind == "files":
        made = Store(kind, str(tmp_path / "runs"), "-F")
    elif kind == "mongo":
        server = request.getfixturevalue("mongo_server")
        made = Store(kind, f"{server.uri}/b_{uuid.uuid4().hex[:12]}", "-m")
    else:
        made = Store(kind, request.getfixturevalue(f"{kind}_db").url, "-s")
    yield made
    made.close()


def record(
    store: Store,
    main: Callable[..., Any],
    *,
    config: dict | None = None,
    options: dict | None = None,
) -> Any:
    """Run ``main`` as an experiment observed by a new observer on ``store``; the Run."""
    ex = Experiment("corpus", save_git_info=False)
    ex.observers.append(store.observer())
    if config:
        ex.add_config(config)
    ex.main(main)
    return ex.run(options={**FAST, **(options or {})})


def _baseline_main(_run: Any) -> int:
    print("baseline output")
    _run.info["kept"] = {"a": [1, 2]}
    for step in range(5):
        _run.log_scalar("base.loss", 1.0 / (step + 1))
    return 42


@dataclass
class Snapshot:
    """What a store holds of one run, as read back."""

    run_id: Any
    status: str
    result: Any
    info: dict
    captured_out: str
    metrics: dict[str, tuple[list, list]]


def snapshot(store: Store, run_id: Any) -> Snapshot:
    """Read run ``run_id`` back from ``store``."""
    with store.reader() as reader:
        run = reader.get_run(run_id)
        series = reader.get_metrics(run_id)
    info = {k: v for k, v in (run.info or {}).items() if k != "metrics"}
    return Snapshot(
        run_id,
        run.status,
        run.result,
        info,
        run.captured_out or "",
        {name: (list(s.steps), list(s.values)) for name, s in series.items()},
    )


@pytest.fixture
def baseline(store: Store) -> Snapshot:
    """A good run recorded in ``store`` before the case runs, as read back then."""
    run = record(store, _baseline_main)
    shot = snapshot(store, run._id)
    assert shot.status == "COMPLETED" and shot.result == 42 and len(shot.metrics) == 1
    return shot


def assert_intact(store: Store, baseline: Snapshot) -> None:
    """The baseline run reads back exactly as it did before the case ran."""
    assert snapshot(store, baseline.run_id) == baseline
