"""Run the bad-input corpus (tests/badinput) and print its table: cases by category and sink.

    .venv-test/bin/python scripts/badinput_table.py [extra pytest arguments]

A cell is ``passed/run`` for that category on that sink; "-" means the category's cases do
not take a store there (command-line mistakes checked once, as processes). Exit status is
pytest's.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

SINKS = ("files", "sqlite", "postgresql", "mariadb", "mongo", "tinydb", "s3", "gcs")
CATEGORIES = {
    "test_metric_points": "metric points",
    "test_text_and_size": "text and size",
    "test_command_line": "command line",
    "test_console_and_config": "console and config",
}


def _category_and_sink(classname: str, name: str) -> tuple[str, str, str]:
    """``(category, sink or "process", case id without the sink)`` of one test."""
    module = classname.rsplit(".", 1)[-1]
    match = re.fullmatch(r"(\w+)(?:\[(.*)\])?", name)
    function, params = (match.group(1), match.group(2) or "") if match else (name, "")
    parts = params.split("-") if params else []
    named = next((s for s in SINKS if s in function), "process")  # e.g. test_mariadb_...
    sink = next((p for p in parts if p in SINKS), named)
    case = "-".join(p for p in parts if p != sink)
    return CATEGORIES.get(module, module), sink, f"{function}[{case}]"


def main(argv: list[str]) -> int:
    """Run pytest on the corpus, print the table, return pytest's exit status."""
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "corpus.xml"
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "tests/badinput", "-q", f"--junitxml={report}", *argv],
            cwd=root,
            check=False,
        )
        tree = ET.parse(report)
    cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    cases: dict[str, set[str]] = defaultdict(set)
    for test in tree.iter("testcase"):
        category, sink, case = _category_and_sink(test.get("classname", ""), test.get("name", ""))
        failed = any(child.tag in ("failure", "error") for child in test)
        skipped = any(child.tag == "skipped" for child in test)
        cell = cells[(category, sink)]
        cell[1] += not skipped
        cell[0] += not (failed or skipped)
        cases[category].add(case)
    columns = (*SINKS, "process")
    print(f"\n| category | cases | {' | '.join(columns)} |")
    print("|---|---:|" + "---:|" * len(columns))
    for category in sorted(cases, key=list(CATEGORIES.values()).index):
        row = [
            f"{cells[(category, s)][0]}/{cells[(category, s)][1]}"
            if (category, s) in cells
            else "-"
            for s in columns
        ]
        print(f"| {category} | {len(cases[category])} | {' | '.join(row)} |")
    total = sum(len(c) for c in cases.values())
    runs = sum(cell[1] for cell in cells.values())
    passed = sum(cell[0] for cell in cells.values())
    print(f"| **all** | **{total}** | {passed}/{runs} tests passed |")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
