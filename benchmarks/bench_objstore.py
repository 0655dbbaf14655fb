"""Per-beat cost of an S3 observer as a run grows: sacredlike's S3Observer beside Sacred 0.8.7's.

Both observers run the same workload against the same moto server (started here, on a free
loopback port), each in its own process (Sacred's in ``bench-venvs/sacred087``, created by
``sacred_env.py`` if missing; with ``--smoke`` Sacred runs only if that environment already
exists). One run is started; each beat delivers ``--points`` new points (split over two
metrics) through ``log_metrics`` and a heartbeat whose captured output grew by one line;
then the run completes. The figure at N points is the mean (and worst) wall time of the
beats that brought the run from N/2 to N points, so rewrites amortised by doubling are
counted. A side that passes ``--budget`` seconds stops there; later sizes show ``-``.

Usage: ``python benchmarks/bench_objstore.py [--sizes 10000 100000 1000000] [--points 2000]
[--budget 300] [--smoke]``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from sacred_env import sacred_python

ROOT = Path(__file__).resolve().parent.parent
EX_INFO = {"name": "bench", "base_dir": ".", "sources": [], "dependencies": [], "repositories": []}
SMOKE_SIZES = (1000, 2000, 4000)


# -- the workload (a child process, under either library) --------------------------------
def _observer(lib: str, bucket: str) -> Any:
    if lib == "sacred":
        from sacred.observers import S3Observer
    else:
        from sacredlike.observers.s3_observer import S3Observer
    return S3Observer(bucket, "runs", region="us-east-1")


def work(lib: str, bucket: str, sizes: list[int], points: int, budget: float) -> dict[str, Any]:
    """Drive one run through the observer; per size, the mean and worst beat in ms."""
    observer = _observer(lib, bucket)
    utcnow = _dt.datetime.utcnow
    observer.started_event(
        ex_info=EX_INFO, command="main", host_info={"hostname": "bench"}, start_time=utcnow(),
        config={"lr": 0.1}, meta_info={}, _id=None,
    )  # fmt: skip
    half = points // 2
    beats: list[tuple[int, float]] = []  # (points after the beat, seconds)
    output, total, began = "", 0, time.perf_counter()
    while total < max(sizes) and time.perf_counter() - began < budget:
        stamp = utcnow()
        batch = {
            name: {
                "name": name,
                "steps": list(range(total // 2, total // 2 + half)),
                "values": [0.5] * half,
                "timestamps": [stamp] * half,
            }
            for name in ("loss", "acc")
        }
        output += f"beat at {total} points\n"
        one = time.perf_counter()
        observer.log_metrics(metrics_by_name=batch, info={})
        observer.heartbeat_event(info={}, captured_out=output, beat_time=utcnow(), result=None)
        total += 2 * half
        beats.append((total, time.perf_counter() - one))
    observer.completed_event(stop_time=utcnow(), result=None)
    figures: dict[str, Any] = {"points": total, "seconds": round(time.perf_counter() - began, 2)}
    for size in sizes:
        window = [s for n, s in beats if size / 2 < n <= size]
        if window and total >= size:
            figures[f"mean_ms@{size}"] = round(1000 * sum(window) / len(window), 2)
            figures[f"worst_ms@{size}"] = round(1000 * max(window), 2)
    return figures


# -- the parent: server, both sides, table -------------------------------------------------
def _run_side(python: str, lib: str, env: dict[str, str], args: argparse.Namespace) -> dict:
    import boto3

    bucket = f"bench-{lib}-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=bucket)
    command = [
        python, __file__, "--worker", lib, "--bucket", bucket, "--points", str(args.points),
        "--budget", str(args.budget), "--sizes", *map(str, args.sizes),
    ]  # fmt: skip
    child_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, capture_output=True, text=True, env=child_env, timeout=7200)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _table(sides: dict[str, dict[str, Any]], sizes: list[int]) -> str:
    rows = [["points in the run", *[f"{name} mean / worst ms per beat" for name in sides]]]
    for size in sizes:
        cells = []
        for figures in sides.values():
            mean, worst = figures.get(f"mean_ms@{size}"), figures.get(f"worst_ms@{size}")
            cells.append("-" if mean is None else f"{mean} / {worst}")
        rows.append([f"{size:,}", *cells])
    rows.append(["whole run", *[f"{f.get('points', 0):,} points in {f.get('seconds')} s"
                                for f in sides.values()]])  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows
    )


def main(argv: list[str] | None = None) -> int:
    """Parse arguments; run one side (``--worker``) or both and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--points", type=int, default=2000, help="new points per beat")
    parser.add_argument("--budget", type=float, default=300.0, help="seconds per side at most")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    parser.add_argument("--worker", choices=("sacredlike", "sacred"), help=argparse.SUPPRESS)
    parser.add_argument("--bucket", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.points = list(SMOKE_SIZES), 200
    if args.worker:
        print(json.dumps(work(args.worker, args.bucket, args.sizes, args.points, args.budget)))
        return 0

    sys.path.insert(0, str(ROOT))
    from tests.object_servers import environment, moto_server, s3_env

    try:
        sacred: str | None = str(sacred_python(extra=("boto3",), create=not args.smoke) or "")
    except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"Sacred side skipped (no Sacred 0.8.7 environment): {exc}", file=sys.stderr)
        sacred = None
    server = moto_server()
    server.start()
    try:
        env = s3_env(server.url)
        with environment(env):
            sides = {"sacredlike": _run_side(sys.executable, "sacredlike", env, args)}
            if sacred:
                sides["Sacred 0.8.7"] = _run_side(sacred, "sacred", env, args)
    finally:
        server.stop()
    print(f"S3 per-beat cost, {args.points} new points per beat, moto server on loopback")
    print(_table(sides, args.sizes))
    for name, figures in sides.items():
        if "error" in figures:
            print(f"  {name}: {figures['error']}")
    return 0 if "error" not in sides["sacredlike"] else 1


if __name__ == "__main__":
    sys.exit(main())
