"""Fixtures for the core engine tests."""

from __future__ import annotations

from typing import Any

import pytest

from sacredlike import Experiment
from sacredlike.observers import RunObserver


class RecordingObserver(RunObserver):
    """Keeps every event it receives, in order, as ``(method, kwargs)``."""

    def __init__(self, priority: int = 0, run_id: Any = None) -> None:
        self.priority = priority
        self.run_id = run_id
        self.events: list[tuple[str, dict[str, Any]]] = []

    def _keep(self, method: str, **kwargs: Any) -> None:
        self.events.append((method, kwargs))

    def started_event(self, **kwargs):
        self._keep("started_event", **kwargs)
        return self.run_id

    def queued_event(self, **kwargs):
        self._keep("queued_event", **kwargs)
        return self.run_id

    def heartbeat_event(self, **kwargs):
        self._keep("heartbeat_event", **kwargs)

    def log_metrics(self, **kwargs):
        self._keep("log_metrics", **kwargs)

    def completed_event(self, **kwargs):
        self._keep("completed_event", **kwargs)

    def failed_event(self, **kwargs):
        self._keep("failed_event", **kwargs)

    def interrupted_event(self, **kwargs):
        self._keep("interrupted_event", **kwargs)

    def artifact_event(self, **kwargs):
        self._keep("artifact_event", **kwargs)

    def resource_event(self, **kwargs):
        self._keep("resource_event", **kwargs)

    def join(self):
        self._keep("join")

    def names(self) -> list[str]:
        """Event names in order."""
        return [name for name, _ in self.events]

    def of(self, method: str) -> list[dict[str, Any]]:
        """Keyword arguments of every call of ``method``."""
        return [kwargs for name, kwargs in self.events if name == method]

    def points(self, metric: str) -> list[Any]:
        """All values of ``metric`` received through ``log_metrics``."""
        return [
            value
            for kwargs in self.of("log_metrics")
            if metric in kwargs["metrics_by_name"]
            for value in kwargs["metrics_by_name"][metric]["values"]
        ]


@pytest.fixture
def recorder() -> RecordingObserver:
    """An observer that assigns run id 1 and records everything."""
    return RecordingObserver(run_id=1)


@pytest.fixture
def ex(recorder: RecordingObserver) -> Experiment:
    """An experiment with a recording observer, capturing with ``sys``."""
    experiment = Experiment("test_exp", save_git_info=False)
    experiment.observers.append(recorder)
    return experiment


FAST = {"--capture": "sys", "--beat-interval": 0.02}
"""Run options for tests: Python-level capture, quick beats."""
