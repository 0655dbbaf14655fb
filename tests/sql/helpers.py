"""Event arguments shaped like the dispatcher's, for driving a SqlObserver directly."""

from __future__ import annotations

import datetime as _dt
from typing import Any

T0 = _dt.datetime(2026, 3, 1, 12, 0, 0, 123456)


def at(seconds: float) -> _dt.datetime:
    """``T0`` plus ``seconds``."""
    return T0 + _dt.timedelta(seconds=seconds)


def ex_info(name: str = "mnist", base_dir: str = "/nonexistent") -> dict[str, Any]:
    """An ``ex_info`` dict as the core sends it."""
    return {
        "name": name,
        "base_dir": base_dir,
        "sources": [],
        "dependencies": ["numpy==1.26.4", "sacredlike==0.1.0"],
        "repositories": [
            {"url": "git@example.com:lab/exp.git", "commit": "ab" * 20, "dirty": False}
        ],
        "mainfile": "train.py",
    }


HOST_INFO = {
    "hostname": "node-" + "x" * 80,
    "cpu": "AMD EPYC 7763 64-Core Processor",
    "os": ["Linux", "Linux-6.1.0-18-amd64-x86_64-with-glibc2.36"],
    "python_version": "3.11.2",
    "gpus": {"driver_version": "535", "gpus": []},
}


def start(
    obs: Any,
    *,
    name: str = "mnist",
    config: dict | None = None,
    _id: Any = None,
    start_time: _dt.datetime = T0,
    queued: bool = False,
    **meta: Any,
) -> Any:
    """Start (or queue) a run on ``obs`` and return the id it gives."""
    arguments = {
        "ex_info": ex_info(name),
        "command": "main",
        "host_info": HOST_INFO,
        "config": {"lr": 0.1, "seed": 7, "net": {"depth": 3}} if config is None else config,
        "meta_info": {"comment": "first try", "priority": 2, **meta},
        "_id": _id,
    }
    if queued:
        return obs.queued_event(queue_time=start_time, **arguments)
    return obs.started_event(start_time=start_time, **arguments)


def points(name: str, steps: range, start_value: float = 0.0) -> dict[str, Any]:
    """A ``metrics_by_name`` entry for ``steps``."""
    return {
        name: {
            "name": name,
            "steps": list(steps),
            "values": [start_value + step / 2 for step in steps],
            "timestamps": [at(step / 1000) for step in steps],
        }
    }
