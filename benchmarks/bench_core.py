"""Core benchmark: the same workloads on sacredlike and on IDSIA's Sacred 0.8.7, side by side.

    .venv/bin/python benchmarks/bench_core.py            # full sizes, a few minutes
    .venv/bin/python benchmarks/bench_core.py --smoke    # tiny sizes, seconds (CI runs this)

Each workload (see ``workloads.py``) runs in a fresh process: sacredlike's with this
interpreter, Sacred's with the interpreter of ``bench-venvs/sacred087`` (created by
``sacred_env.py`` if missing, except with ``--smoke``, which then runs sacredlike only).

The exit status is non-zero when a workload crashes or sacredlike fails a correctness check
(e.g. ``metrics.json`` incomplete when ``ex.run()`` returns). Speed never fails the run:
targets are shown next to the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sacred_env import DEFAULT_VENV, sacred_python
from workloads import WORKLOADS

HERE = Path(__file__).resolve().parent
SMOKE_SCALE = 0.01
CHILD_TIMEOUT_S = 600
SACREDLIKE, SACRED = "sacredlike", "sacred"
UNSET_IN_CHILDREN = ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE")
"""Dropped from the workloads' environment: unbuffered stdout would make every printed line a
system call, and without cached bytecode each fresh interpreter would recompile on import."""


@dataclass(frozen=True)
class Target:
    """A target for sacredlike's figure.

    Attributes:
        text: how the target reads in the table.
        met: ``met(sacredlike_value, sacred_value_or_None)``; None when it cannot be judged.
    """

    text: str
    met: Callable[[Any, Any], bool | None]


@dataclass(frozen=True)
class Row:
    """One line of the table: a figure of a workload, for both libraries."""

    workload: str
    figure: str
    unit: str
    target: Target | None = None


def _at_most(limit: float) -> Callable[[Any, Any], bool]:
    return lambda mine, _theirs: mine <= limit


def _half_of_sacred(mine: Any, theirs: Any) -> bool | None:
    return None if theirs is None else mine <= theirs / 2


def _is_complete(mine: Any, _theirs: Any) -> bool:
    return mine == "complete"


TITLES = {
    "log_scalar": "log_scalar",
    "metrics_file": "metrics, FileStorage, beat 0.2 s",
    "metrics_none": "metrics, no observer, beat 0.2 s",
    "print_sys": "printed lines, capture sys, FileStorage",
    "print_fd": "printed lines, capture fd, FileStorage",
    "empty_run": "empty run, FileStorage",
    "artifacts": "artifacts, FileStorage",
    "import_time": "import",
}
COMPLETE = Target("complete at return", _is_complete)
HALF = Target("<= 0.5x Sacred", _half_of_sacred)
ROWS = (
    Row("log_scalar", "us_per_call", "us/call, best round", Target("<= 0.5 us", _at_most(0.5))),
    Row("metrics_file", "wall_s", "s wall"),
    Row("metrics_file", "vs_no_observer", "x no-observer run", Target("<= 1.1x", _at_most(1.1))),
    Row("metrics_file", "peak_rss_mb", "MB peak RSS", Target("<= 120 MB", _at_most(120))),
    Row("metrics_file", "metrics_json_at_return", "metrics.json", COMPLETE),
    Row("metrics_file", "settle_s", "s of work after return"),
    Row("metrics_none", "wall_s", "s wall"),
    Row("metrics_none", "peak_rss_mb", "MB peak RSS"),
    Row("print_sys", "wall_s", "s wall", HALF),
    Row("print_sys", "bare_loop_s", "s same loop, no run"),
    Row("print_sys", "overhead_s", "s over the bare loop"),
    Row("print_sys", "peak_rss_mb", "MB peak RSS"),
    Row("print_sys", "cout_at_return", "cout.txt", COMPLETE),
    Row("print_fd", "wall_s", "s wall", HALF),
    Row("print_fd", "bare_loop_s", "s same loop, no run"),
    Row("print_fd", "overhead_s", "s over the bare loop"),
    Row("print_fd", "peak_rss_mb", "MB peak RSS"),
    Row("print_fd", "cout_at_return", "cout.txt", COMPLETE),
    Row("empty_run", "ms_per_run", "ms/run, mean", Target("<= 3 ms", _at_most(3))),
    Row("empty_run", "ms_per_run_best_batch", "ms/run, best batch"),
    Row("artifacts", "wall_s", "s wall"),
    Row("import_time", "import_s", "s, best of 5", Target("<= 0.1 s", _at_most(0.1))),
)


@dataclass
class Outcome:
    """One workload on one library: its figures and checks, or why it crashed."""

    figures: dict[str, Any]
    checks: dict[str, bool]
    error: str | None = None


def run_workload(python: Path, lib: str, name: str, scale: float) -> Outcome:
    """Run ``workloads.py`` for one workload in a fresh process of ``python``."""
    command = [str(python), str(HERE / "workloads.py"), "--lib", lib, "--workload", name]
    try:
        completed = subprocess.run(
            [*command, "--scale", str(scale)],
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
            cwd=HERE,
            env={k: v for k, v in os.environ.items() if k not in UNSET_IN_CHILDREN},
        )
    except subprocess.TimeoutExpired:
        return Outcome({}, {}, f"no result after {CHILD_TIMEOUT_S} s")
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        tail = completed.stderr.strip().splitlines()[-1:] or [f"exit {completed.returncode}"]
        return Outcome({}, {}, tail[0])
    data = json.loads(lines[-1])
    return Outcome(data["figures"], data["checks"])


def combine(repeats: list[Outcome]) -> Outcome:
    """One outcome from repeated runs of a workload: the median of each number.

    A crash in any repeat makes the whole a crash; a check passes only if it passed every
    time; a text figure (``"complete"``, ...) shows the first repeat where it differed from
    the first one's, so a single incomplete file stays visible.
    """
    crashed = next((outcome for outcome in repeats if outcome.error), None)
    if crashed is not None:
        return crashed
    figures: dict[str, Any] = {}
    for key, first in repeats[0].figures.items():
        values = [outcome.figures[key] for outcome in repeats]
        if isinstance(first, (int, float)):
            figures[key] = statistics.median(values)
        else:
            figures[key] = next((value for value in values if value != first), first)
    checks = {
        check: all(outcome.checks[check] for outcome in repeats) for check in repeats[0].checks
    }
    return Outcome(figures, checks)


def add_ratios(outcomes: dict[str, dict[str, Outcome]]) -> None:
    """Add ``metrics_file.vs_no_observer``: wall time with FileStorage / without observer."""
    for per_lib in outcomes.values():
        observed, bare = per_lib.get("metrics_file"), per_lib.get("metrics_none")
        if observed and bare and "wall_s" in observed.figures and "wall_s" in bare.figures:
            observed.figures["vs_no_observer"] = observed.figures["wall_s"] / bare.figures["wall_s"]


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value < 0.001:
            return "< 0.001"
        if value >= 100:
            return f"{value:,.0f}"
        return f"{value:.3g}" if value < 1 else f"{value:.2f}"
    return str(value)


def _verdict(target: Target | None, mine: Any, theirs: Any, judge: bool) -> str:
    if target is None:
        return ""
    if mine is None or not judge:
        return target.text
    met = target.met(mine, theirs)
    return f"{target.text}: {'n/a' if met is None else 'met' if met else 'MISSED'}"


def table(outcomes: dict[str, dict[str, Outcome]], judge: bool = True) -> list[list[str]]:
    """The comparison table as rows of cells (first row: the header).

    Args:
        outcomes: ``{library: {workload: outcome}}``.
        judge: say whether each target is met (targets hold for the full sizes only).
    """
    rows = [["workload", "figure", "sacredlike", "Sacred 0.8.7", "target (sacredlike)"]]
    previous = None
    for row in ROWS:
        per_lib = {lib: outcomes.get(lib, {}).get(row.workload) for lib in (SACREDLIKE, SACRED)}
        if all(outcome is None for outcome in per_lib.values()):
            continue
        values = {
            lib: None if outcome is None else outcome.figures.get(row.figure)
            for lib, outcome in per_lib.items()
        }
        cells = {
            lib: "CRASHED" if outcome is not None and outcome.error else _show(values[lib])
            for lib, outcome in per_lib.items()
        }
        title = ""
        if row.workload != previous:
            sizes = [o.figures.get("size") for o in per_lib.values() if o is not None]
            size = next((s for s in sizes if s), "")
            title = f"{TITLES[row.workload]} ({size})" if size else TITLES[row.workload]
        previous = row.workload
        verdict = _verdict(row.target, values[SACREDLIKE], values[SACRED], judge)
        rows.append([title, row.unit, cells[SACREDLIKE], cells[SACRED], verdict])
    return rows


def render(rows: list[list[str]], markdown: bool) -> str:
    """Plain aligned columns, or a Markdown table."""
    if markdown:
        lines = ["| " + " | ".join(cells) + " |" for cells in rows]
        lines.insert(1, "|" + "|".join("---" for _ in rows[0]) + "|")
        return "\n".join(lines)
    widths = [max(len(cells[column]) for cells in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
        for cells in rows
    )


def problems(outcomes: dict[str, dict[str, Outcome]]) -> list[str]:
    """Crashes of either library and failed checks of sacredlike (Sacred's are its bugs)."""
    found = []
    for lib, per_workload in outcomes.items():
        for name, outcome in per_workload.items():
            if outcome.error:
                found.append(f"{name} on {lib} crashed: {outcome.error}")
            elif lib == SACREDLIKE:
                found += [
                    f"{name} on {lib}: check failed: {check}"
                    for check, passed in outcome.checks.items()
                    if not passed
                ]
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help=f"sizes x {SMOKE_SCALE}")
    parser.add_argument("--scale", type=float, help="multiply every size (default 1)")
    parser.add_argument("--only", action="append", choices=sorted(WORKLOADS), help="repeatable")
    parser.add_argument(
        "--repeat", type=int, default=1, metavar="N", help="run each workload N times, show medians"
    )
    parser.add_argument("--no-sacred", action="store_true", help="run sacredlike only")
    parser.add_argument("--sacred-venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also save all figures here")
    args = parser.parse_args(argv)
    scale = args.scale if args.scale is not None else SMOKE_SCALE if args.smoke else 1.0
    pythons = {SACREDLIKE: Path(sys.executable)}
    if not args.no_sacred:
        sacred = sacred_python(args.sacred_venv, create=not args.smoke)
        if sacred is None:
            print(f"no Sacred environment at {args.sacred_venv}: sacredlike only", file=sys.stderr)
        else:
            pythons[SACRED] = sacred
    outcomes: dict[str, dict[str, Outcome]] = {lib: {} for lib in pythons}
    for name in args.only or list(WORKLOADS):
        repeats: dict[str, list[Outcome]] = {lib: [] for lib in pythons}
        for _ in range(args.repeat):
            for lib, python in pythons.items():  # alternate: both see the same machine load
                print(f"{name} on {lib} ...", end=" ", file=sys.stderr, flush=True)
                repeats[lib].append(run_workload(python, lib, name, scale))
                print(repeats[lib][-1].error or "done", file=sys.stderr)
        for lib, outcome_list in repeats.items():
            outcomes[lib][name] = combine(outcome_list)
    add_ratios(outcomes)
    print(render(table(outcomes, judge=scale == 1.0), args.markdown))
    if args.json:
        args.json.write_text(
            json.dumps(
                {lib: {name: vars(o) for name, o in per.items()} for lib, per in outcomes.items()},
                indent=2,
            )
        )
    found = problems(outcomes)
    for problem in found:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
