"""An experiment process whose final flush is slow, for the final-flush tests.

    python -m tests.core.flush_child RUNS [--points N] [--batch B] [--slow S]
        [--signal-at K] [--progress-delay D]

Logs ``--points`` points of metric ``x`` (0, 1, 2, ...), prints ``main is done`` and returns;
no beat comes during main, so the final beat stores every point, ``--batch`` a call, to a
FileStorageObserver in ``RUNS`` behind an observer that takes ``--slow`` seconds a batch. With
``--signal-at K`` that observer says ``batch K`` on the real stdout at the K-th batch, then
waits until the process has received the signal the test sends. Exits as ``run_commandline``
makes it.
"""

from __future__ import annotations

import argparse
import faulthandler
import logging
import sys
import threading
import time

import sacredlike.flush as flush
import sacredlike.run as run
from sacredlike import Experiment
from sacredlike.dispatch import count_points
from sacredlike.observers import FileStorageObserver, RunObserver

SIGNAL_SEEN = "received; finishing the run record first"


class SignalSeen(logging.Handler):
    """Sets :attr:`event` when the run logs that it received a signal."""

    def __init__(self) -> None:
        super().__init__()
        self.event = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if SIGNAL_SEEN in record.getMessage():
            self.event.set()


class SlowStore(RunObserver):
    """Takes ``seconds`` over each batch; at batch ``signal_at``, waits for the signal."""

    priority = 30  # called before the file storage (20), which still gets the batch being written

    def __init__(self, seconds: float, signal_at: int, seen: threading.Event) -> None:
        self.seconds = seconds
        self.signal_at = signal_at
        self.seen = seen
        self.batches = 0

    def log_metrics(self, metrics_by_name, info) -> None:
        self.batches += 1
        time.sleep(self.seconds)
        if self.batches == self.signal_at:
            sys.__stdout__.write(f"batch {self.batches} ({count_points(metrics_by_name)})\n")
            sys.__stdout__.flush()
            deadline = time.monotonic() + 10
            # short waits: the main thread runs the handler even if another thread got the signal
            while not self.seen.wait(0.05):
                if time.monotonic() > deadline:
                    raise RuntimeError("no signal came")


def main() -> None:
    """Run the experiment through ``run_commandline``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("runs")
    parser.add_argument("--points", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--slow", type=float, default=0.0)
    parser.add_argument("--signal-at", type=int, default=0)
    parser.add_argument("--progress-delay", type=float, default=flush.PROGRESS_DELAY)
    args = parser.parse_args()
    faulthandler.dump_traceback_later(20, exit=True)  # a hang shows where, in the test's output
    run.METRICS_BATCH_SIZE = args.batch
    flush.PROGRESS_DELAY = args.progress_delay
    seen = SignalSeen()
    logging.getLogger("sacredlike").addHandler(seen)
    ex = Experiment("flush_child", save_git_info=False)
    ex.observers.extend(
        [SlowStore(args.slow, args.signal_at, seen.event), FileStorageObserver(args.runs)]
    )

    @ex.main
    def experiment(_run):
        for step in range(args.points):
            _run.log_scalar("x", float(step))
        print("main is done")
        return 7

    ex.run_commandline(["flush_child", "--capture=sys", "--beat-interval=0"])


if __name__ == "__main__":
    main()
