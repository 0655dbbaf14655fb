"""Metric points per second into MongoDB: sacredlike's MongoObserver beside Sacred 0.8.7's.

Both observers run the same workload on the same server, each in its own process (Sacred's
in the ``bench-venvs/sacred087`` environment, created by ``sacred_env.py`` if missing): one
run is started, then ``--beats`` beats each deliver ``--points`` new points of each of
``--metrics`` metrics (``log_metrics``) and a heartbeat whose captured output has grown by
one 100-character line per metric point batch; then the run completes. The figures are
points stored per second (counted back from the database), the mean and worst beat, and
whether the run document reached COMPLETED.

The server is ``$MONGO_URI`` if set, else a SecantusDB started for the benchmark (note:
SecantusDB rewrites a whole document on every update, so large documents cost more there
than on mongod).

Usage: ``python benchmarks/bench_mongo.py [--beats N] [--points N] [--metrics N] [--smoke]``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sacred_env import sacred_python

ROOT = Path(__file__).resolve().parent.parent
EX_INFO = {"name": "bench", "base_dir": ".", "sources": [], "dependencies": [], "repositories": []}


# -- the workload (runs in a child process, under either library) ------------------------
def _observer(lib: str, uri: str, db: str) -> Any:
    if lib == "sacred":
        from sacred.observers import MongoObserver
    else:
        from sacredlike.observers.mongo import MongoObserver
    return MongoObserver(uri, db_name=db)


def _stored_points(uri: str, db: str, run_id: Any) -> tuple[int, str | None]:
    import pymongo

    with pymongo.MongoClient(uri) as client:
        metrics = client[db]["metrics"]
        total = 0
        for doc in metrics.find({"run_id": run_id}, {"steps": 1}):
            total += len(doc["steps"])
            for part in metrics.find({"part_of": doc["_id"]}, {"steps": 1}):
                total += len(part["steps"])
        status = client[db]["runs"].find_one({"_id": run_id}, {"status": 1}) or {}
    return total, status.get("status")


def work(lib: str, uri: str, db: str, beats: int, points: int, metrics: int) -> dict[str, Any]:
    """Drive one run through the observer; return the figures."""
    observer = _observer(lib, uri, db)
    utcnow = _dt.datetime.utcnow
    run_id = observer.started_event(
        ex_info=EX_INFO, command="main", host_info={"hostname": "bench"}, start_time=utcnow(),
        config={"lr": 0.1}, meta_info={}, _id=None,
    )  # fmt: skip
    output, info, errors, worst, last_error = "", {}, 0, 0.0, ""
    line = "x" * 99 + "\n"
    began = time.perf_counter()
    for beat in range(beats):
        stamp = utcnow()
        batch = {
            f"metric_{m}": {
                "name": f"metric_{m}",
                "steps": list(range(beat * points, (beat + 1) * points)),
                "values": [0.5 * s for s in range(beat * points, (beat + 1) * points)],
                "timestamps": [stamp] * points,
            }
            for m in range(metrics)
        }
        output += line * metrics
        one = time.perf_counter()
        try:
            observer.log_metrics(metrics_by_name=batch, info=info)
            observer.heartbeat_event(
                info=info, captured_out=output, beat_time=utcnow(), result=None
            )
        except Exception as exc:  # Sacred raises once its document passes 16 MB
            errors += 1
            last_error = f"{type(exc).__name__}: {str(exc)[:120]}"
        worst = max(worst, time.perf_counter() - one)
    try:
        observer.completed_event(stop_time=utcnow(), result=None)
    except Exception as exc:
        errors += 1
        last_error = f"{type(exc).__name__}: {str(exc)[:120]}"
    elapsed = time.perf_counter() - began
    stored, status = _stored_points(uri, db, run_id)
    figures = {
        "points_logged": beats * points * metrics,
        "points_stored": stored,
        "seconds": round(elapsed, 3),
        "points_per_s": round(stored / elapsed),
        "mean_beat_ms": round(1000 * elapsed / max(beats, 1), 2),
        "worst_beat_ms": round(1000 * worst, 2),
        "status": status,
        "errors": errors,
    }
    if errors:
        figures["last_error"] = last_error
    return figures


# -- the parent: server, both sides, table -------------------------------------------------
def _run_side(python: str, lib: str, uri: str, args: argparse.Namespace) -> dict[str, Any]:
    db = f"bench_{lib}_{uuid.uuid4().hex[:8]}"
    command = [
        python, __file__, "--worker", lib, "--uri", uri, "--db", db,
        "--beats", str(args.beats), "--points", str(args.points), "--metrics", str(args.metrics),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=3600)
    _drop(uri, db)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _drop(uri: str, db: str) -> None:
    import pymongo

    with pymongo.MongoClient(uri) as client:
        client.drop_database(db)


def _sacred_python() -> tuple[str | None, str]:
    try:
        return str(sacred_python(extra=("pymongo",))), ""
    except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
        return None, f"Sacred side skipped (no Sacred 0.8.7 environment): {exc}"


def _server(folder: Path) -> Any:
    sys.path.insert(0, str(ROOT))
    from tests.mongo.server import MongoServer

    if os.environ.get("MONGO_URI"):
        return MongoServer(os.environ["MONGO_URI"])
    server = MongoServer.secantus(folder)
    server.start()
    return server


def main(argv: list[str] | None = None) -> int:
    """Parse arguments; run one side (``--worker``) or both and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beats", type=int, default=100)
    parser.add_argument("--points", type=int, default=1000, help="points per metric per beat")
    parser.add_argument("--metrics", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    parser.add_argument("--worker", choices=("sacredlike", "sacred"), help=argparse.SUPPRESS)
    parser.add_argument("--uri", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.smoke:
        args.beats, args.points, args.metrics = 5, 50, 2
    if args.worker:
        figures = work(args.worker, args.uri, args.db, args.beats, args.points, args.metrics)
        print(json.dumps(figures))
        return 0

    sacred, note = _sacred_python()
    with tempfile.TemporaryDirectory() as folder:
        server = _server(Path(folder))
        try:
            sides = {"sacredlike": _run_side(sys.executable, "sacredlike", server.uri, args)}
            if sacred is not None:
                sides["sacred 0.8.7"] = _run_side(sacred, "sacred", server.uri, args)
        finally:
            server.stop()
    print(
        f"MongoDB points/s: {args.beats} beats x {args.points} points x {args.metrics} metrics "
        f"({args.beats * args.points * args.metrics} points) on {server.uri}"
    )
    for name, figures in sides.items():
        print(f"  {name:13s} " + "  ".join(f"{k}={v}" for k, v in figures.items()))
    if note:
        print(f"  {note}")
    return 0 if "error" not in sides["sacredlike"] else 1


if __name__ == "__main__":
    sys.exit(main())
