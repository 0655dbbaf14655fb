"""The ``sacredlike`` command: look at stored runs from any registered store.

    sacredlike ls STORE [--status S] [--experiment REGEX] [--config key=value] [--limit N]
    sacredlike show STORE RUN_ID
    sacredlike metrics STORE RUN_ID [NAME ...]
    sacredlike sync [JOURNAL] [--to URL]
    sacredlike reap STORE [--older-than DURATION]
    sacredlike check STORE [--repair] [--journals DIR]

``STORE`` is a directory path or a URL (``sqlite:///runs.db``, ``postgresql://...``,
``mongodb://...``), as :func:`sacredlike.open_store` takes it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

from .commandline import parse_update_value
from .errors import SacredlikeError
from .observers.base import RunQuery, StoredRun
from .redaction import redact_credentials
from .registry import open_store
from .serialize import dumps


def _run_id(text: str) -> Any:
    return int(text) if text.isdigit() else text


def _config_filter(pairs: Sequence[str]) -> dict[str, Any]:
    wanted = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SacredlikeError(f"--config expects key=value, got {pair!r}")
        wanted[key] = parse_update_value(value)
    return wanted


def _duration(run: StoredRun) -> str:
    if run.start_time is None or run.stop_time is None:
        return "-"
    return str(run.stop_time - run.start_time).split(".")[0]


def _list(args: argparse.Namespace) -> None:
    if args.experiment is not None:
        try:
            re.compile(args.experiment)
        except re.error as error:
            raise SacredlikeError(f"--experiment {args.experiment!r}: bad regex: {error}") from None
    query = RunQuery(
        experiment=args.experiment,
        status=args.status or None,
        config=_config_filter(args.config),
        limit=args.limit,
    )
    with open_store(args.store) as store:
        runs = store.find_runs(query)
    print(f"{'ID':>6}  {'EXPERIMENT':<20} {'STATUS':<11} {'STARTED':<19}  {'TOOK':>8}  RESULT")
    for run in runs:
        started = run.start_time.strftime("%Y-%m-%d %H:%M:%S") if run.start_time else "-"
        result = json.dumps(run.result, default=str)
        print(
            f"{run.id!s:>6}  {(run.experiment_name or '-')[:20]:<20} {run.status:<11} "
            f"{started:<19}  {_duration(run):>8}  {result[:40]}"
        )


def _show(args: argparse.Namespace) -> None:
    with open_store(args.store) as store:
        run = store.get_run(_run_id(args.run_id))
    record = {
        key: value for key, value in vars(run).items() if key not in ("captured_out", "experiment")
    }
    print(dumps(record))
    failures = run.info.get("observer_failures") or []
    if failures:
        print(f"--- {len(failures)} observer failure(s) during the run ---")
        for failure in failures:
            where = f"{failure['observer']} in {failure['event']}"
            print(f"{failure['time']}  {where}: {failure['error']}")
    if run.captured_out:
        print("--- captured output ---")
        print(run.captured_out, end="" if run.captured_out.endswith("\n") else "\n")


def _metrics(args: argparse.Namespace) -> None:
    with open_store(args.store) as store:
        series = store.get_metrics(_run_id(args.run_id), args.names or None)
    missing = [name for name in args.names if name not in series]
    if missing:
        raise SacredlikeError(
            f"run {args.run_id} has no metric {', '.join(map(repr, missing))}"
            + (f"; it has {', '.join(sorted(series))}" if series else "")
        )
    print("name\tstep\tvalue\ttimestamp")
    for metric in series.values():
        for step, value, stamp in zip(metric.steps, metric.values, metric.timestamps, strict=True):
            print(f"{metric.name}\t{step}\t{value}\t{stamp.isoformat()}")


def _sync(args: argparse.Namespace) -> None:
    from .observers.journal import Journal, default_journal_dir
    from .observers.queue import sync_journal

    directory = args.journal or str(default_journal_dir())
    folders = Journal.find(directory)
    if not folders:
        print(f"no journal to sync in {directory}")
        return
    for folder in folders:
        run_id = sync_journal(folder, args.to)
        print(f"run {run_id}: journal {folder.name} delivered")


def _reap(args: argparse.Namespace) -> None:
    from .reap import last_sign_of_life, parse_duration, reap

    older_than = parse_duration(args.older_than) if args.older_than else None
    runs = reap(args.store, older_than)
    if not runs:
        print("no lost run: every RUNNING run is still beating")
    for run in runs:
        print(f"run {run.id}: DEAD (last beat {last_sign_of_life(run)})")


def _check(args: argparse.Namespace) -> int:
    from .store_check import check_store

    findings = check_store(args.store, args.repair, args.journals)
    if not findings:
        print("no problem found")
    for finding in findings:
        where = "-" if finding.run_id is None else f"run {finding.run_id}"
        print(f"{where}: {finding.problem}{' [repaired]' if finding.repaired else ''}")
    return 1 if any(not finding.repaired for finding in findings) else 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sacredlike`` command."""
    parser = argparse.ArgumentParser(prog="sacredlike", description="Inspect recorded runs.")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("ls", help="list runs, newest first")
    listing.add_argument("store", help="directory or store URL")
    listing.add_argument("--status", action="append", help="only runs with this status")
    listing.add_argument("--experiment", help="regular expression on the experiment name")
    listing.add_argument("--config", action="append", default=[], help="key=value filter")
    listing.add_argument("--limit", type=int, help="at most this many runs")
    listing.set_defaults(handler=_list)
    show = commands.add_parser("show", help="show one run")
    show.add_argument("store")
    show.add_argument("run_id")
    show.set_defaults(handler=_show)
    metrics = commands.add_parser("metrics", help="print a run's metric points as TSV")
    metrics.add_argument("store")
    metrics.add_argument("run_id")
    metrics.add_argument("names", nargs="*", help="only these metrics")
    metrics.set_defaults(handler=_metrics)
    sync = commands.add_parser("sync", help="deliver journals a QueueObserver kept")
    sync.add_argument(
        "journal", nargs="?", help="a journal or a folder of them (default: the journal folder)"
    )
    sync.add_argument("--to", help="store URL to deliver to (default: the journal's store)")
    sync.set_defaults(handler=_sync)
    reaper = commands.add_parser("reap", help="record DEAD for runs that stopped beating")
    reaper.add_argument("store")
    reaper.add_argument(
        "--older-than",
        metavar="DURATION",
        help="runs whose last beat is older than this (90s, 5m, 2h, 1d), lease or not "
        "(default: runs past their lease)",
    )
    reaper.set_defaults(handler=_reap)
    check = commands.add_parser("check", help="find (and --repair) what crashes left")
    check.add_argument("store")
    check.add_argument("--repair", action="store_true", help="repair what needs no guessing")
    check.add_argument("--journals", help="journal folder to look in (default: the usual one)")
    check.set_defaults(handler=_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sacredlike`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        status = args.handler(args)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (SacredlikeError, KeyError, OSError, ValueError) as error:
        print(f"sacredlike: error: {redact_credentials(str(error))}", file=sys.stderr)
        return 2
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
