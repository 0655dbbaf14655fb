"""Bare observer vs QueueObserver with the store up, and with it away from 1 s into the run.

Workload: a run logging one point per millisecond for ``--seconds`` seconds (beat 0.1 s) into
PostgreSQL (a scratch schema of 127.0.0.1:5432 ``test``) through a loopback TCP proxy. In
the outage rows the proxy is stopped 1 s into the run and started again only after
``ex.run()`` returned; then the QueueObserver's journal is delivered with ``sync_journal``.
Prints, per row: points logged, points stored when ``ex.run()`` returned and after the sync,
the final status, and how long ``ex.run()`` took after main returned.

Usage: ``python benchmarks/bench_queue.py [--seconds S] [--smoke]``.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_sql import listening, postgresql_url

from sacredlike import Experiment, open_store
from sacredlike.observers import QueueObserver, SqlObserver
from sacredlike.observers.queue import sync_journal
from tests.service_helpers import TcpProxy


def one_row(url: str, *, queued: bool, outage: bool, seconds: float) -> dict:
    """Run the workload once and return its figures."""
    proxy = TcpProxy("127.0.0.1:5432")
    proxy.start()
    proxied = url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    covered = SqlObserver(proxied)
    observer = QueueObserver(covered, interval=0.5, final_timeout=2.0) if queued else covered
    ex = Experiment("outage")
    ex.observers.append(observer)
    ended: list[float] = []
    logged = int(seconds * 1000)

    @ex.main
    def main(_run):
        for step in range(logged):
            _run.log_scalar("loss", float(step))
            time.sleep(0.001)
        ended.append(time.monotonic())

    if outage:
        threading.Timer(1.0, proxy.stop).start()
    run = ex.run(options={"--capture": "no", "--beat-interval": 0.1})
    returned = time.monotonic() - ended[0]
    if outage:
        proxy.start()
    stored_now, status_now = _stored(url, run._id)
    journal = getattr(observer, "kept_journal", None)
    if journal is not None:
        observer.settle()
        sync_journal(journal, url)
    stored, status = _stored(url, run._id)
    if proxy._listener is not None:
        proxy._listener.close()
    return {
        "observer": "QueueObserver(SqlObserver)" if queued else "SqlObserver",
        "store": "away from 1 s until after the run" if outage else "up",
        "logged": logged,
        "stored at return": stored_now,
        "status at return": status_now,
        "stored after sync": stored if journal is not None else "-",
        "final status": status,
        "ex.run() after main (s)": f"{returned:.2f}",
    }


def _stored(url: str, run_id: int) -> tuple[int, str]:
    with open_store(url) as store:
        run = store.get_run(run_id)
        metrics = store.get_metrics(run_id)
    return len(metrics["loss"]) if "loss" in metrics else 0, run.status


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--smoke", action="store_true", help="a short run of each row")
    args = parser.parse_args()
    seconds = 1.5 if args.smoke else args.seconds
    if not listening(5432):
        print("PostgreSQL is not listening on 127.0.0.1:5432; nothing measured")
        return
    rows = []
    for queued in (False, True):
        for outage in (False, True):
            with postgresql_url() as url:
                rows.append(one_row(url, queued=queued, outage=outage, seconds=seconds))
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(row[c]) for c in columns) + " |")


if __name__ == "__main__":
    main()
