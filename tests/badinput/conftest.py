"""The bad-input corpus over every sink of the contract suite (tests/contract/backends).

``store`` is one fresh store of each sink in turn: files, SQLite, PostgreSQL, MariaDB,
MongoDB on SecantusDB, TinyDB, S3 on moto's server and GCS on fake-gcs-server. Every case
first records a good ``baseline`` run in it and checks at the end, with
:func:`assert_intact`, that the bad input left that run exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from sacredlike import Experiment, open_store
from sacredlike.registry import sink_for_scheme, url_scheme
from tests.contract.conftest import *  # noqa: F403  (the backend and server fixtures)
from tests.contract.conftest import SINKS
from tests.contract.target import Target

FAST = {"--capture": "sys", "--beat-interval": 0.05}
"""Run options for the corpus: Python-level capture, quick beats."""


@dataclass
class Store:
    """One scratch store of a sink, with what the corpus needs to write and read it.

    Attributes:
        kind: the sink's name in the contract suite (``files``, ``postgresql``, ``s3`` ...).
        url: what ``open_store`` and the sink's command-line flag take.
        flag: the sink's short command-line flag (``-F``, ``-s``, ``-m``, ``-t``, ``-S``, ``-G``).
    """

    kind: str
    url: str
    flag: str
    target: Target

    def observer(self) -> Any:
        """A new observer writing to this store (closed at the end of the test)."""
        return self.target.observer()

    def reader(self) -> Any:
        """A reader on this store (a context manager)."""
        return open_store(self.url)


@pytest.fixture(params=SINKS)
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """A fresh store of each sink in turn."""
    target = request.getfixturevalue(f"backend_{request.param}")
    flag = sink_for_scheme(url_scheme(target.url)).short_flag
    assert flag is not None
    yield Store(target.sink, target.url, flag, target)


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
