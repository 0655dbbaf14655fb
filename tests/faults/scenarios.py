"""What the fault tests share: the sink under test, the experiment process, the result table."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sacredlike import open_store

ROOT = Path(__file__).resolve().parents[2]
CHILD_TIMEOUT = 180.0
"""Seconds a child process may take before the test gives up on it (a hang, not a figure)."""


@dataclass
class FaultSink:
    """One store under test.

    Attributes:
        name: the sink (the test id).
        url: where the test reads (directly, never through the proxy).
        child_url: where the experiment process writes (through the proxy if there is one).
        env: environment the experiment process needs (object-store endpoints).
        cut / restore: take the server away / bring it back; None for local sinks.
    """

    name: str
    url: str
    child_url: str
    env: dict[str, str]
    cut: Callable[[], None] | None = None
    restore: Callable[[], None] | None = None


class Child:
    """An experiment process (:mod:`tests.faults.child`) and what it says."""

    def __init__(self, urls: list[str], *args: str, env: dict[str, str] | None = None) -> None:
        command = [sys.executable, "-m", "tests.faults.child", *urls, *args]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._stderr: list[str] = []
        self._said = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(
            target=lambda: self._stderr.extend(self.process.stderr), daemon=True
        ).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            with self._said:
                self.lines.append(line.strip())
                self._said.notify_all()
        with self._said:
            self.lines.append("<eof>")
            self._said.notify_all()

    def wait_for(self, prefix: str) -> str:
        """The first line starting with ``prefix``, waiting for it (fails if the child ends)."""
        with self._said:
            while True:
                for line in self.lines:
                    if line.startswith(prefix):
                        return line
                if "<eof>" in self.lines:
                    raise AssertionError(f"child ended without {prefix!r}: {self.log()}")
                if not self._said.wait(CHILD_TIMEOUT):
                    raise AssertionError(f"child never said {prefix!r}: {self.log()}")

    @property
    def run_id(self) -> Any:
        """The run id the child announced."""
        text = self.wait_for("started ").split(" ", 1)[1]
        return int(text) if text.isdigit() else text

    def logged(self) -> int:
        """How many points the child said it logged (the last count it reported)."""
        counts = [
            int(line.split()[1]) for line in self.lines if line.startswith(("logged", "done"))
        ]
        return max(counts, default=0)

    def finish(self) -> int:
        """Wait for the process to end; return its exit status."""
        code = self.process.wait(CHILD_TIMEOUT)
        self.wait_for("<eof>")
        return code

    def log(self) -> str:
        """What the child wrote to stderr (its log)."""
        return "".join(self._stderr)


def stored(url: str, run_id: Any) -> tuple[str, list[float], Any]:
    """The run's status, its points of ``x`` and the run, read back."""
    with open_store(url) as store:
        run = store.get_run(run_id)
        metrics = store.get_metrics(run_id)
    return run.status, metrics["x"].values if "x" in metrics else [], run


def user_sees(log: str) -> str:
    """A one-line summary of the warnings and errors a child logged (what the user sees)."""
    notes = [
        line
        for line in log.splitlines()
        if re.search(r"WARNING|ERROR", line) and "Traceback" not in line
    ]
    if not notes:
        return "no warning"
    first = re.sub(r"^.*?(WARNING|ERROR)\s*-?\s*", r"\1: ", notes[0]).strip()
    first = re.sub(r"\s+", " ", first)[:110]
    recovered = any(re.search(r"recovered|works again", line) for line in notes)
    return first + (" … then recovered" if recovered else "")


@dataclass
class FaultTable:
    """Rows measured by the fault tests, rendered as one Markdown table."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(
        self, fault: str, sink: str, observer: str, logged: Any, kept: Any, status: str, seen: str
    ) -> None:
        """Record what one fault did to one sink."""
        with self._lock:
            self.rows.append(
                {
                    "fault": fault,
                    "sink": sink,
                    "observer": observer,
                    "logged": logged,
                    "stored": kept,
                    "status": status,
                    "seen": seen.replace("|", "/"),
                }
            )

    def markdown(self, sinks: list[str]) -> str:
        """The table, ordered by fault (first seen first), then sink, then observer."""
        faults = list(dict.fromkeys(row["fault"] for row in self.rows))
        order = {name: index for index, name in enumerate(sinks)}
        rows = sorted(
            self.rows,
            key=lambda r: (faults.index(r["fault"]), order.get(r["sink"], 99), r["observer"]),
        )
        header = ("fault", "sink", "observer", "points logged", "points stored", "final status")
        lines = ["| " + " | ".join((*header, "what the user sees")) + " |", "|---" * 7 + "|"]
        lines += [
            f"| {r['fault']} | {r['sink']} | {r['observer']} | {r['logged']} | {r['stored']} "
            f"| {r['status']} | {r['seen']} |"
            for r in rows
        ]
        return "\n".join(lines) + "\n"
