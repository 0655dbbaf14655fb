"""The core benchmark's workloads; each runs in a fresh process on sacredlike or Sacred 0.8.7.

    python benchmarks/workloads.py --lib sacredlike --workload metrics_file [--scale 0.01]

prints one JSON object, ``{"figures": {...}, "checks": {...}}``, on stdout. The same code runs
under both libraries: their public API is the same, only the import differs. While a
workload runs, file descriptors 1 and 2 point at ``/dev/null``, so echoed output and log
lines cost the same for both libraries and never mix with the JSON.

``--scale`` multiplies every size (``0.01`` for a smoke run). Sizes at scale 1 follow
issue 2, item 13: 1M ``log_scalar`` calls; 10 metrics x 100k steps at a 0.2 s beat; 200k
printed lines; 200 empty runs; 50 artifacts of 1 MB. This module imports only the standard
library at the top, so it runs in either environment.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

LIBRARIES = ("sacredlike", "sacred")
BEAT_INTERVAL = "0.2"
METRIC_NAMES = tuple(f"metric_{index}" for index in range(10))
LINE_MARKER = "the quick brown fox jumps over the lazy dog"
ARTIFACT_BYTES = 1 << 20
ROUNDS = 5
SETTLE_TIMEOUT_S = 120.0


@dataclass
class Result:
    """What one workload reports.

    Attributes:
        figures: measured numbers (and short descriptions such as ``size``).
        checks: correctness checks, ``{description: passed}``.
    """

    figures: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)


Workload = Callable[[str, float, Path], Result]
WORKLOADS: dict[str, Workload] = {}


def workload(function: Workload) -> Workload:
    """Register ``function`` as the workload of the same name."""
    WORKLOADS[function.__name__] = function
    return function


# -- helpers -------------------------------------------------------------------------------
def _library(lib: str) -> tuple[Any, Any]:
    """``(Experiment, FileStorageObserver)`` of the library ``lib``."""
    if lib == "sacred":
        from sacred import Experiment
        from sacred.observers import FileStorageObserver
    else:
        from sacredlike import Experiment
        from sacredlike.observers import FileStorageObserver
    return Experiment, FileStorageObserver


def _experiment(lib: str, basedir: Path | None = None) -> Any:
    """A new experiment, observed by a FileStorageObserver at ``basedir`` if given."""
    experiment_class, observer_class = _library(lib)
    experiment = experiment_class("bench")
    if basedir is not None:
        experiment.observers.append(observer_class(str(basedir)))
    return experiment


def _size(base: int, scale: float, minimum: int) -> int:
    return max(int(base * scale), minimum)


def _peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def _timed_run(experiment: Any, **options: str) -> tuple[Any, float]:
    """``ex.run`` with command-line ``options`` (``beat_interval="0.2"``); returns run, seconds."""
    flags = {f"--{key.replace('_', '-')}": value for key, value in options.items()}
    start = time.perf_counter()
    run = experiment.run(options=flags)
    return run, time.perf_counter() - start


def _snapshot(path: Path, workdir: Path) -> Path | None:
    """Copy ``path`` as it is now (kernel-side copy: no memory of ours); None if missing."""
    if not path.is_file():
        return None
    copy = workdir / f"snapshot-{path.name}"
    shutil.copyfile(path, copy)
    return copy


def _settle() -> float:
    """Wait for the library's non-daemon threads (Sacred's late heartbeat); return seconds."""
    start = time.perf_counter()
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join(SETTLE_TIMEOUT_S)
    return time.perf_counter() - start


def _metrics_state(path: Path | None, steps: int) -> str:
    """``"complete"``, ``"missing"``, ``"unparseable"`` or ``"N of M points"`` for metrics.json."""
    if path is None:
        return "missing"
    try:
        stored = json.loads(path.read_bytes())
    except ValueError:
        return "unparseable"
    expected = list(range(steps))
    points = 0
    complete = True
    for name in METRIC_NAMES:
        series = stored.get(name, {"steps": [], "values": [], "timestamps": []})
        points += len(series["steps"])
        complete = complete and (
            series["steps"] == expected
            and len(series["values"]) == steps
            and len(series["timestamps"]) == steps
        )
    return "complete" if complete else f"{points:,} of {steps * len(METRIC_NAMES):,} points"


def _output_state(path: Path | None, lines: int) -> str:
    """``"complete"``, ``"N of M lines"`` or ``"N lines for M printed"`` for cout.txt."""
    found = 0 if path is None else path.read_text(errors="replace").count(LINE_MARKER)
    if found == lines:
        return "complete"
    if found < lines:
        return f"{found:,} of {lines:,} lines"
    return f"{found:,} lines for {lines:,} printed"


def _seconds_printed_by(command: list[str], workdir: Path) -> float:
    """Run ``command`` and return the number of seconds it printed."""
    completed = subprocess.run(command, cwd=workdir, capture_output=True, text=True, check=True)
    return float(completed.stdout)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Point file descriptors 1 and 2 at /dev/null (restored on exit)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for descriptor, original in zip((1, 2), saved, strict=True):
            os.dup2(original, descriptor)
            os.close(original)


# -- workloads -----------------------------------------------------------------------------
@workload
def log_scalar(lib: str, scale: float, workdir: Path) -> Result:
    """µs per ``_run.log_scalar("loss", 0.5)`` call inside main, minus the empty loop.

    The calls are made in 5 rounds of a fifth each; the best round counts, which keeps
    other processes' load on a shared machine out of the figure.
    """
    calls = _size(1_000_000, scale, 1_000)
    per_round = calls // ROUNDS
    experiment = _experiment(lib)
    rounds: list[float] = []

    @experiment.main
    def main(_run: Any) -> None:
        for _ in range(ROUNDS):
            start = time.perf_counter()
            for _ in range(per_round):
                pass
            empty = time.perf_counter() - start
            start = time.perf_counter()
            for _ in range(per_round):
                _run.log_scalar("loss", 0.5)
            rounds.append(time.perf_counter() - start - empty)

    _timed_run(experiment)
    per_call = min(rounds) / per_round * 1e6
    return Result({"size": f"{per_round * ROUNDS:,} calls", "us_per_call": per_call})


def _metrics(lib: str, scale: float, workdir: Path, observed: bool) -> Result:
    """10 metrics x N steps logged in main at a 0.2 s beat, with or without FileStorage."""
    steps = _size(100_000, scale, 100)
    basedir = workdir / "runs"
    experiment = _experiment(lib, basedir if observed else None)

    @experiment.main
    def main(_run: Any) -> None:
        for step in range(steps):
            value = step / 1000
            for name in METRIC_NAMES:
                _run.log_scalar(name, value, step)

    run, wall = _timed_run(experiment, beat_interval=BEAT_INTERVAL)
    result = Result({"size": f"{steps * len(METRIC_NAMES):,} points", "wall_s": wall})
    snapshot = _snapshot(basedir / str(run._id) / "metrics.json", workdir) if observed else None
    result.figures["settle_s"] = _settle()
    result.figures["peak_rss_mb"] = _peak_rss_mb()
    if observed:
        state = _metrics_state(snapshot, steps)
        result.figures["metrics_json_at_return"] = state
        result.checks["metrics.json complete when ex.run() returns"] = state == "complete"
    return result


@workload
def metrics_file(lib: str, scale: float, workdir: Path) -> Result:
    """1M points with a FileStorageObserver at beat interval 0.2 s."""
    return _metrics(lib, scale, workdir, observed=True)


@workload
def metrics_none(lib: str, scale: float, workdir: Path) -> Result:
    """1M points with no observer at beat interval 0.2 s."""
    return _metrics(lib, scale, workdir, observed=False)


def _printing(lib: str, scale: float, workdir: Path, capture: str) -> Result:
    """N printed lines in main under ``capture``, with FileStorage at a 0.2 s beat."""
    lines = _size(200_000, scale, 100)
    basedir = workdir / "runs"
    experiment = _experiment(lib, basedir)

    def print_lines() -> None:
        for index in range(lines):
            print(f"line {index}: {LINE_MARKER}")

    start = time.perf_counter()
    print_lines()
    sys.stdout.flush()
    bare = time.perf_counter() - start
    experiment.main(print_lines)
    run, wall = _timed_run(experiment, beat_interval=BEAT_INTERVAL, capture=capture)
    state = _output_state(_snapshot(basedir / str(run._id) / "cout.txt", workdir), lines)
    result = Result({"size": f"{lines:,} lines", "wall_s": wall, "cout_at_return": state})
    result.figures["bare_loop_s"] = bare
    result.figures["overhead_s"] = wall - bare
    result.figures["settle_s"] = _settle()
    result.figures["peak_rss_mb"] = _peak_rss_mb()
    result.checks[f"cout.txt complete when ex.run() returns (capture {capture})"] = (
        state == "complete"
    )
    return result


@workload
def print_sys(lib: str, scale: float, workdir: Path) -> Result:
    """200k printed lines, capture mode ``sys``."""
    return _printing(lib, scale, workdir, "sys")


@workload
def print_fd(lib: str, scale: float, workdir: Path) -> Result:
    """200k printed lines, capture mode ``fd``."""
    return _printing(lib, scale, workdir, "fd")


@workload
def empty_run(lib: str, scale: float, workdir: Path) -> Result:
    """ms per ``ex.run()`` of an empty main with FileStorage, after one warm-up run.

    The runs are made in 5 batches: the mean over all runs, and the best batch's mean.
    """
    runs = _size(200, scale, 5)
    basedir = workdir / "runs"
    experiment = _experiment(lib, basedir)

    @experiment.main
    def main() -> None:
        """Does nothing: the run's own cost is measured."""

    experiment.run()
    batches = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(runs // ROUNDS):
            experiment.run()
        batches.append(time.perf_counter() - start)
    runs = runs // ROUNDS * ROUNDS
    stored = [
        json.loads((folder / "run.json").read_text()).get("status")
        for folder in basedir.iterdir()
        if folder.name.isdigit()
    ]
    return Result(
        {
            "size": f"{runs:,} runs",
            "ms_per_run": sum(batches) / runs * 1000,
            "ms_per_run_best_batch": min(batches) / (runs // ROUNDS) * 1000,
        },
        {"every empty run stored as COMPLETED": stored == ["COMPLETED"] * (runs + 1)},
    )


@workload
def artifacts(lib: str, scale: float, workdir: Path) -> Result:
    """Wall time of a run adding 50 artifacts of 1 MB each, with FileStorage."""
    count = _size(50, scale, 2)
    sources = workdir / "artifacts"
    sources.mkdir()
    paths = []
    for index in range(count):
        path = sources / f"artifact_{index}.bin"
        path.write_bytes(os.urandom(ARTIFACT_BYTES))
        paths.append(path)
    basedir = workdir / "runs"
    experiment = _experiment(lib, basedir)

    @experiment.main
    def main(_run: Any) -> None:
        for path in paths:
            _run.add_artifact(str(path))

    run, wall = _timed_run(experiment)
    run_dir = basedir / str(run._id)
    stored = sum(
        (run_dir / path.name).is_file() and (run_dir / path.name).stat().st_size == ARTIFACT_BYTES
        for path in paths
    )
    return Result(
        {"size": f"{count} x 1 MB", "wall_s": wall},
        {"every artifact stored when ex.run() returns": stored == count},
    )


@workload
def import_time(lib: str, scale: float, workdir: Path) -> Result:
    """Seconds to ``import`` the library in a fresh interpreter, best of 5 after a warm-up."""
    module = "sacred" if lib == "sacred" else "sacredlike"
    code = f"import time\nstart = time.perf_counter()\nimport {module}\n"
    code += "print(time.perf_counter() - start)"
    _seconds_printed_by([sys.executable, "-c", code], workdir)  # warm-up: caches bytecode
    samples = [_seconds_printed_by([sys.executable, "-c", code], workdir) for _ in range(5)]
    return Result({"size": "fresh interpreter", "import_s": min(samples)})


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: run one workload and print its result as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", choices=LIBRARIES, required=True)
    parser.add_argument("--workload", choices=sorted(WORKLOADS), required=True)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every size")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-core-") as folder, _quiet():
        result = WORKLOADS[args.workload](args.lib, args.scale, Path(folder))
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
