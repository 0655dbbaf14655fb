"""TinyDB sink: cost of a long metric-logging run, and artifact throughput, beside Sacred 0.8.7.

Both libraries run the same workloads, each in its own process (Sacred's in the
``bench-venvs/sacred087`` environment, created by ``sacred_env.py`` if missing):

* ``metrics``: a run of ``--steps`` steps; each step logs ``--points`` points (spread over 5
  metrics) and then does a fixed amount of pure-Python CPU work (:data:`WORK` iterations,
  ~5 ms; it holds the GIL, so time the heartbeat thread takes shows in the run's time), with
  a beat every 5 ms, so ~``--steps`` heartbeats. The run is timed
  without any observer and with a TinyDbObserver; the figures are the ratios of wall time
  and of the process's CPU time (all threads), best of ``--rounds`` each. On a shared
  machine the CPU ratio is the steadier one: other processes' load changes wall times.
  Sacred's TinyDbObserver drops metric points: ``points_stored`` says so.
* ``artifacts``: ``--artifacts`` files of 1 MB (distinct contents) added in one run; the
  figure is MB/s over the ``add_artifact`` calls.

Usage: ``python benchmarks/bench_tinydb.py [--steps N] [--points N] [--smoke]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sacred_env import sacred_python

ROOT = Path(__file__).resolve().parent.parent
BEAT = "0.005"
METRICS = 5
MB = 1 << 20
WORK = 60_000
"""Loop iterations of CPU work per step (~5 ms here; fixed, so both libraries do the same)."""


# -- the workloads (run in a child process, under either library) -------------------------
def _library(lib: str) -> tuple[Any, Any]:
    if lib == "sacred":
        from sacred import Experiment
        from sacred.observers import TinyDbObserver
    else:
        from sacredlike import Experiment
        from sacredlike.observers import TinyDbObserver
    return Experiment, TinyDbObserver


def _work(count: int) -> int:
    total = 0
    for i in range(count):
        total += i * i
    return total


def _metrics_run(lib: str, store: Path | None, steps: int, points: int) -> tuple[float, float]:
    """Wall and CPU seconds (all threads of this process) of one run."""
    experiment_class, observer_class = _library(lib)
    ex = experiment_class("bench_tinydb")
    if store is not None:
        ex.observers.append(observer_class(str(store)))
    per_metric = max(points // METRICS, 1)

    @ex.main
    def main(_run: Any) -> None:
        for step in range(steps):
            for m in range(METRICS):
                for k in range(per_metric):
                    _run.log_scalar(f"metric_{m}", 0.001 * k, step * per_metric + k)
            _work(WORK)

    began, cpu = time.perf_counter(), time.process_time()
    ex.run(options={"--beat-interval": BEAT, "--capture": "no"})
    return time.perf_counter() - began, time.process_time() - cpu


def _stored_points(store: Path) -> int:
    tables = json.loads((store / "metadata.json").read_text())
    return sum(len(doc["steps"]) for doc in tables.get("metrics", {}).values())


def metrics(lib: str, folder: Path, steps: int, points: int, rounds: int) -> dict[str, Any]:
    """Best-of-``rounds`` run times without and with a TinyDbObserver."""
    _metrics_run(lib, None, 1, points)  # warm-up: imports and first-run costs count in neither
    _metrics_run(lib, folder / "warm-up", 1, points)
    bare, observed, stored = [], [], 0
    for index in range(rounds):
        bare.append(_metrics_run(lib, None, steps, points))
        store = folder / f"store{index}"
        observed.append(_metrics_run(lib, store, steps, points))
        stored = _stored_points(store)
    wall = [min(t[0] for t in runs) for runs in (bare, observed)]
    cpu = [min(t[1] for t in runs) for runs in (bare, observed)]
    return {
        "points_logged": steps * (points // METRICS) * METRICS,
        "points_stored": stored,
        "no_observer_s": round(wall[0], 3),
        "tinydb_s": round(wall[1], 3),
        "ratio": round(wall[1] / wall[0], 3),
        "no_observer_cpu_s": round(cpu[0], 3),
        "tinydb_cpu_s": round(cpu[1], 3),
        "cpu_ratio": round(cpu[1] / cpu[0], 3),
        "metadata_mb": round((folder / "store0" / "metadata.json").stat().st_size / MB, 2),
    }


def artifacts(lib: str, folder: Path, count: int) -> dict[str, Any]:
    """MB/s of ``count`` distinct 1 MB artifacts added to one run."""
    files = []
    for index in range(count):
        path = folder / f"artifact{index}.bin"
        path.write_bytes(os.urandom(MB))
        files.append(path)
    experiment_class, observer_class = _library(lib)
    ex = experiment_class("bench_tinydb")
    store = folder / "artifact_store"
    ex.observers.append(observer_class(str(store)))
    spent: list[float] = []

    @ex.main
    def main(_run: Any) -> None:
        began = time.perf_counter()
        for path in files:
            _run.add_artifact(str(path), path.name)
        spent.append(time.perf_counter() - began)

    ex.run(options={"--beat-interval": "10", "--capture": "no"})
    stored = sum(1 for _, _, names in os.walk(store / "hashfs") for _ in names)
    return {
        "artifacts": count,
        "seconds": round(spent[0], 3),
        "mb_per_s": round(count / spent[0]),
        "files_in_hashfs": stored,
    }


def work(args: argparse.Namespace) -> dict[str, Any]:
    """Both workloads in this process, in a temporary folder."""
    with tempfile.TemporaryDirectory() as folder:
        return {
            "metrics": metrics(args.worker, Path(folder), args.steps, args.points, args.rounds),
            "artifacts": artifacts(args.worker, Path(folder), args.artifacts),
        }


# -- the parent: both sides, table ---------------------------------------------------------
def _run_side(python: str, lib: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        python, __file__, "--worker", lib, "--steps", str(args.steps),
        "--points", str(args.points), "--rounds", str(args.rounds),
        "--artifacts", str(args.artifacts),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=3600)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _sacred_python() -> tuple[str | None, str]:
    try:
        extra = ("tinydb", "hashfs", "tinydb-serialization")
        return str(sacred_python(extra=extra)), ""
    except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
        return None, f"Sacred side skipped (no Sacred 0.8.7 environment): {exc}"


def main(argv: list[str] | None = None) -> int:
    """Parse arguments; run one side (``--worker``) or both and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="steps (and about as many beats)")
    parser.add_argument("--points", type=int, default=50, help="points logged per step")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each kind; best counts")
    parser.add_argument("--artifacts", type=int, default=50, help="1 MB artifacts")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    parser.add_argument("--worker", choices=("sacredlike", "sacred"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.smoke:
        args.steps, args.points, args.rounds, args.artifacts = 20, 50, 1, 3
    if args.worker:
        print(json.dumps(work(args)))
        return 0

    sides = {"sacredlike": _run_side(sys.executable, "sacredlike", args)}
    sacred, note = _sacred_python()
    if sacred is not None:
        sides["sacred 0.8.7"] = _run_side(sacred, "sacred", args)
    points = args.steps * args.points
    print(
        f"TinyDB: {args.steps} steps x {args.points} points ({points} points, beat {BEAT} s); "
        f"{args.artifacts} artifacts of 1 MB"
    )
    for name, figures in sides.items():
        for workload, values in figures.items():
            line = (
                "  ".join(f"{k}={v}" for k, v in values.items())
                if isinstance(values, dict)
                else values
            )
            print(f"  {name:13s} {workload:9s} {line}")
    print("  (Sacred's TinyDbObserver keeps no metrics: its points_stored is 0 by design)")
    if note:
        print(f"  {note}")
    return 0 if "error" not in sides["sacredlike"] else 1


if __name__ == "__main__":
    sys.exit(main())
