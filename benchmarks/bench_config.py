"""Config and command-line benchmark: assembling configs, parsing ``with``, starting a script.

    .venv/bin/python benchmarks/bench_config.py            # full sizes
    .venv/bin/python benchmarks/bench_config.py --smoke    # tiny sizes, seconds

Prints figures only; nothing here fails on speed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sacredlike import Experiment
from sacredlike.commandline import parse_command_line

REPO = Path(__file__).resolve().parents[1]


def timed(function: Callable[[], object], repeat: int) -> float:
    """Median seconds of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def big_experiment(entries: int) -> Experiment:
    """An experiment with ``entries`` flat entries, a nested dict of as many, and a scope."""
    ex = Experiment("bench")
    ex.add_config({f"key_{i}": i for i in range(entries)})
    ex.add_config(nested={f"sub_{i}": {"value": i, "name": f"n{i}"} for i in range(entries)})

    @ex.config
    def cfg():
        lr = 0.1  # learning rate
        layers = [64, 64]
        total = lr * len(layers)  # noqa: F841 - a config entry

    ex.main(lambda: None)
    return ex


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes")
    args = parser.parse_args()
    entries, updates, repeat = (50, 10, 3) if args.smoke else (2000, 200, 15)

    ex = big_experiment(entries)
    tokens = [f"nested.sub_{i}.value={i * 2}" for i in range(updates)] + ["lr=0.5"]
    parsed = parse_command_line(["with", *tokens], prog="bench", commands={"main": ""})
    plain = timed(lambda: ex.gather_config(), repeat)
    updated = timed(lambda: ex.gather_config(parsed.config_updates), repeat)
    parse = timed(
        lambda: parse_command_line(["with", *tokens], prog="bench", commands={"main": ""}),
        repeat,
    )
    prepare = timed(
        lambda: ex._prepare(None, parsed.config_updates, (), {}),
        repeat,
    )
    print(f"config with {3 * entries + 3} leaves, {updates + 1} updates (median of {repeat})")
    print(f"  gather_config, no updates      {plain * 1e3:8.2f} ms")
    print(f"  gather_config, with updates    {updated * 1e3:8.2f} ms")
    print(f"  parse command line             {parse * 1e3:8.2f} ms")
    print(f"  prepare run (config + checks)  {prepare * 1e3:8.2f} ms")

    script = REPO / "examples" / "config_training.py"
    for argv in (["print_config"], ["-u", "-C", "no"]):
        wall = timed(
            lambda argv=argv: subprocess.run(
                [sys.executable, str(script), *argv], capture_output=True, check=True
            ),
            max(3, repeat // 3),
        )
        print(f"  python config_training.py {' '.join(argv):<12} {wall * 1e3:8.1f} ms wall")


if __name__ == "__main__":
    main()
