"""A real experiment process for the fault suite.

    python -m tests.faults.child URL [URL ...] [--points N] [--every S] [--beat S] [--queue]

Records one run to an observer per URL (built as its command-line flag would be), logging
metric ``x`` = 0, 1, 2, ... every ``--every`` seconds. It reports on the real stdout, which
the run's capture does not see: ``started ID``, ``logged N`` every 50 points, ``done N`` when
main returns, ``ending`` when the run's terminal event begins (``--slow-end``: that event
then takes that many seconds before the stores get it, so a test can signal the process
while the run is being stored).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

from sacredlike import SETTINGS, Experiment
from sacredlike.observers import RunObserver
from sacredlike.observers.queue import QueueObserver
from sacredlike.registry import open_observer


def say(line: str) -> None:
    """Tell the test something (on the process's real stdout, outside the capture)."""
    sys.__stdout__.write(line + "\n")
    sys.__stdout__.flush()


class SlowEnd(RunObserver):
    """Says ``ending`` at the terminal event, then takes ``seconds`` over it."""

    priority = 100  # before the stores: a signal sent after "ending" arrives before they write

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def _end(self, **kwargs) -> None:
        say("ending")
        time.sleep(self.seconds)

    completed_event = interrupted_event = failed_event = _end


def main() -> int:
    """Run the experiment; exit 0 when the run completed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--points", type=int, default=300)
    parser.add_argument("--every", type=float, default=0.01)
    parser.add_argument("--beat", type=float, default=0.2)
    parser.add_argument("--queue", action="store_true")
    parser.add_argument("--final-timeout", type=float, default=5.0)
    parser.add_argument("--slow-end", type=float, default=0.0)
    args = parser.parse_args()
    SETTINGS.LEASE_SLACK = float(os.environ.get("FAULT_LEASE_SLACK", "0.5"))
    logging.basicConfig(format="%(levelname)s - %(name)s - %(message)s", level=logging.INFO)
    ex = Experiment("faults")
    for url in args.urls:
        observer = open_observer(url)
        if args.queue:
            observer = QueueObserver(
                observer, interval=0.1, retry_interval=0.5, final_timeout=args.final_timeout
            )
        ex.observers.append(observer)
    if args.slow_end:
        ex.observers.append(SlowEnd(args.slow_end))

    @ex.main
    def run(_run):
        say(f"started {_run._id}")
        for step in range(args.points):
            _run.log_scalar("x", float(step))
            if (step + 1) % 50 == 0:
                say(f"logged {step + 1}")
                print(f"step {step + 1}")
            time.sleep(args.every)
        say(f"done {args.points}")
        return args.points

    ex.run(options={"--beat-interval": args.beat, "--capture": "sys"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
