"""Fixtures for the TinyDB sink: a store folder and an experiment that logs, prints and saves."""

from __future__ import annotations

from pathlib import Path

import pytest

from sacredlike import Experiment

pytest.importorskip("tinydb")


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A folder for a fresh store (not created yet)."""
    return tmp_path / "runs_db"


def make_experiment(name: str = "mnist", outcome: str = "complete") -> Experiment:
    """An experiment whose main logs 5 points, prints, adds an artifact, then ``outcome``.

    ``outcome`` is ``complete`` (returns ``lr * 10``), ``fail`` (ValueError) or ``interrupt``
    (KeyboardInterrupt).
    """
    ex = Experiment(name)

    @ex.config
    def config():
        lr = 0.1
        artifact = ""

    @ex.main
    def main(_run, lr, artifact):
        for step in range(5):
            _run.log_scalar("loss", 1.0 / (step + 1))
        print("training", lr)
        if artifact:
            _run.add_artifact(artifact, "model.bin", content_type="application/octet-stream")
        if outcome == "fail":
            raise ValueError("diverged")
        if outcome == "interrupt":
            raise KeyboardInterrupt
        return lr * 10

    return ex
