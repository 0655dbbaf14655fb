"""Metric insert throughput of SqlObserver into SQLite, PostgreSQL and MariaDB.

Each database gets a scratch schema/database (PostgreSQL 127.0.0.1:5432 database ``test``,
MariaDB 127.0.0.1:3306 as root) or a temporary SQLite file; one run is started and
``log_metrics`` receives beats of ``--beat`` points until ``--points`` are stored. Prints
points per second for each database; a server that does not answer is reported and skipped.

Sacred 0.8.7's SqlObserver has no metrics table: it stores 0 points whatever is logged.

Usage: ``python benchmarks/bench_sql.py [--points N] [--beat N] [--smoke]``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import socket
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sacredlike.observers.sql import SqlObserver

EX_INFO = {"name": "bench", "base_dir": ".", "sources": [], "dependencies": [], "repositories": []}
HOST_INFO = {"hostname": "bench", "cpu": "cpu", "os": ["Linux", "Linux"], "python_version": "3"}


@contextmanager
def sqlite_url() -> Iterator[str]:
    """A temporary SQLite file."""
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"


@contextmanager
def postgresql_url() -> Iterator[str]:
    """A scratch schema in PostgreSQL's ``test`` database, dropped afterwards."""
    import psycopg

    name = "bench_" + uuid.uuid4().hex[:8]
    with psycopg.connect(
        host="127.0.0.1", port=5432, user="postgres", dbname="test", autocommit=True
    ) as admin:
        admin.execute(f"CREATE SCHEMA {name}")
        try:
            yield f"postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{name}"
        finally:
            admin.execute(f"DROP SCHEMA {name} CASCADE")


@contextmanager
def mariadb_url() -> Iterator[str]:
    """A scratch MariaDB database, dropped afterwards."""
    import pymysql

    name = "bench_" + uuid.uuid4().hex[:8]
    admin = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", autocommit=True)
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    try:
        yield f"mysql://root@127.0.0.1:3306/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE {name}")
        admin.close()


def listening(port: int) -> bool:
    """True if something accepts connections on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def beat(first_step: int, size: int) -> dict:
    """One beat's ``metrics_by_name``: ``size`` points split over two metrics."""
    now = _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)
    half = size // 2
    return {
        name: {
            "name": name,
            "steps": list(range(first_step, first_step + half)),
            "values": [0.5 * step for step in range(first_step, first_step + half)],
            "timestamps": [now] * half,
        }
        for name in ("loss", "accuracy")
    }


def measure(url: str, points: int, beat_size: int) -> float:
    """Points per second stored by ``log_metrics`` into the database at ``url``."""
    observer = SqlObserver(url)
    observer.started_event(
        ex_info=EX_INFO,
        command="main",
        host_info=HOST_INFO,
        start_time=_dt.datetime(2026, 1, 1),
        config={},
        meta_info={},
        _id=None,
    )
    batches = [beat(step, beat_size) for step in range(0, points // 2, beat_size // 2)]
    started = time.perf_counter()
    for batch in batches:
        observer.log_metrics(batch, {})
    elapsed = time.perf_counter() - started
    observer.engine.dispose()
    return len(batches) * beat_size / elapsed


def main() -> None:
    """Run the benchmark and print one line per database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--beat", type=int, default=100_000, help="points per log_metrics call")
    parser.add_argument("--smoke", action="store_true", help="a tiny run (CI)")
    args = parser.parse_args()
    if args.smoke:
        args.points, args.beat = 2_000, 1_000
    databases: dict[str, tuple[Callable, int | None]] = {
        "SQLite": (sqlite_url, None),
        "PostgreSQL": (postgresql_url, 5432),
        "MariaDB": (mariadb_url, 3306),
    }
    print(f"metric points: {args.points:,} in beats of {args.beat:,}")
    for label, (make_url, port) in databases.items():
        if port is not None and not listening(port):
            print(f"{label:>12}: skipped (nothing listens on 127.0.0.1:{port})")
            continue
        with make_url() as url:
            rate = measure(url, args.points, args.beat)
        print(f"{label:>12}: {rate:>12,.0f} points/s")
    print(f"{'Sacred 0.8.7':>12}: {0:>12,} points stored (its SqlObserver drops metrics)")


if __name__ == "__main__":
    main()
