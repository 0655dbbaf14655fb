"""The fault table, measured: runs the fault suite (``tests/faults``) and prints its table.

Every row comes from a test with real processes and the real servers: the store away
mid-run while a point is logged every 10 ms (bare observer and QueueObserver), the store
back only after the process exited (journal, ``sacredlike sync``), ``kill -9``, 20 processes
starting at once, a disk that fills, and SIGTERM/SIGINT/SIGHUP.

Usage::

    python benchmarks/bench_faults.py                 # the whole suite, outage 30 s
    python benchmarks/bench_faults.py --outage 3      # the suite's own outage length
    python benchmarks/bench_faults.py --write-docs    # also put the table in docs/reliability.md
    python benchmarks/bench_faults.py --smoke         # one 1 s outage row (PostgreSQL)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "reliability.md"
BEGIN, END = "<!-- fault-table:begin -->", "<!-- fault-table:end -->"


def measure(outage: float, selection: list[str]) -> str:
    """Run the fault suite (``selection``: extra pytest arguments); return its table."""
    with tempfile.TemporaryDirectory() as scratch:
        table = Path(scratch) / "faults.md"
        env = {
            **os.environ,
            "SACREDLIKE_FAULT_TABLE": str(table),
            "SACREDLIKE_OUTAGE_SECONDS": str(outage),
        }
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *selection]
        subprocess.run(command, cwd=ROOT, env=env, check=False)
        return table.read_text(encoding="utf-8") if table.exists() else ""


def write_docs(table: str, outage: float) -> None:
    """Replace the table between the markers of docs/reliability.md."""
    text = DOCS.read_text(encoding="utf-8")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    note = (
        f"\n_Measured by `python benchmarks/bench_faults.py --outage {outage:g} --write-docs`._\n\n"
    )
    DOCS.write_text(head + BEGIN + note + table + END + tail, encoding="utf-8")


def main() -> None:
    """Parse the arguments, measure, print (and write) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=30.0, help="seconds the store is away")
    parser.add_argument("--write-docs", action="store_true", help="update docs/reliability.md")
    parser.add_argument("--smoke", action="store_true", help="one short outage row")
    args = parser.parse_args()
    if args.smoke:
        selection = ["tests/faults/test_outage.py", "-k", "mid_run and postgresql and bare"]
        table = measure(1.0, selection)
    else:
        table = measure(args.outage, ["tests/faults"])
    print(table or "no row measured (were the servers there?)")
    if args.write_docs and table:
        write_docs(table, args.outage)


if __name__ == "__main__":
    main()
