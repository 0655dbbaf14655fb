"""Drive an observer's events the way the dispatcher does (keyword arguments only)."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

from sacredlike.dispatch import merge_metrics


def now() -> _dt.datetime:
    """A naive UTC time, as the run engine passes them."""
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)


def ex_info(base_dir: Path, name: str = "demo", source_text: str = "print('hi')\n") -> dict:
    """An experiment description with one real source file under ``base_dir``."""
    from sacredlike.dependencies import file_md5

    source = base_dir / "exp.py"
    source.write_text(source_text)
    return {
        "name": name,
        "base_dir": str(base_dir),
        "sources": [["exp.py", file_md5(source)]],
        "dependencies": ["numpy==2.0"],
        "repositories": [],
        "mainfile": "exp.py",
    }


def start(observer: Any, base_dir: Path, *, config: dict | None = None, **kw: Any) -> Any:
    """Call ``started_event`` and return the id."""
    return observer.started_event(
        ex_info=kw.pop("info", None) or ex_info(base_dir, kw.pop("name", "demo")),
        command="main",
        host_info={"hostname": "box", "cpu": "x"},
        start_time=kw.pop("start_time", None) or now(),
        config=config if config is not None else {"lr": 0.1, "seed": 7},
        meta_info=kw.pop("meta_info", {"comment": "c"}),
        _id=kw.pop("_id", None),
    )


def points(name: str, start: int, count: int) -> dict:
    """``metrics_by_name`` holding ``count`` points of ``name`` from step ``start``."""
    stamp = now()
    return {
        name: {
            "name": name,
            "steps": list(range(start, start + count)),
            "values": [float(i) / 2 for i in range(start, start + count)],
            "timestamps": [stamp] * count,
        }
    }


class Beats:
    """Calls log_metrics + heartbeat like the dispatcher, re-offering failed points."""

    def __init__(self, observer: Any) -> None:
        self.observer = observer
        self.backlog: dict = {}
        self.errors: list[Exception] = []

    def beat(
        self,
        metrics: dict | None = None,
        *,
        out: str = "",
        info: dict | None = None,
        result: Any = None,
    ) -> None:
        batch = merge_metrics(self.backlog, metrics or {})
        self.backlog = {}
        if batch:
            try:
                self.observer.log_metrics(metrics_by_name=batch, info=info or {})
            except Exception as exc:  # the dispatcher logs and re-offers
                self.errors.append(exc)
                self.backlog = batch
        try:
            self.observer.heartbeat_event(
                info=info or {}, captured_out=out, beat_time=now(), result=result
            )
        except Exception as exc:
            self.errors.append(exc)
