"""Output capture modes and the metrics logger."""

from __future__ import annotations

import math
import subprocess
import sys
import threading

import numpy as np
import pytest

from sacredlike.errors import ConfigError
from sacredlike.metrics_logger import MetricsLogger, ScalarMetricLogEntry, linearize_metrics
from sacredlike.output_capture import make_capture
from sacredlike.utils import apply_backspaces_and_linefeeds

from .conftest import FAST


@pytest.mark.parametrize("mode", ["sys", "fd"])
def test_capture_interleaves_stdout_and_stderr(ex, recorder, mode):
    @ex.main
    def main():
        print("out 1", flush=True)
        sys.stderr.write("err 2\n")
        sys.stderr.flush()
        print("out 3", flush=True)

    run = ex.run(options={**FAST, "--capture": mode})
    assert run.captured_out.splitlines()[-3:] == ["out 1", "err 2", "out 3"]
    assert recorder.of("heartbeat_event")[-1]["captured_out"] == run.captured_out


def test_fd_capture_includes_subprocess_and_c_level_output(ex):
    @ex.main
    def main():
        subprocess.run([sys.executable, "-c", "print('from a child process')"], check=True)
        subprocess.run(["sh", "-c", "echo from the shell >&2"], check=True)

    run = ex.run(options={**FAST, "--capture": "fd"})
    assert "from a child process" in run.captured_out
    assert "from the shell" in run.captured_out


def test_sys_capture_misses_subprocess_output_but_no_capture_records_nothing(ex):
    @ex.main
    def main():
        print("python level")
        subprocess.run([sys.executable, "-c", "print('child')"], check=True)

    run = ex.run(options={**FAST, "--capture": "sys"})
    assert "python level" in run.captured_out
    assert "child" not in run.captured_out
    assert ex.run(options={**FAST, "--capture": "no"}).captured_out == ""


def test_captured_out_filter_is_applied(ex):
    ex.captured_out_filter = apply_backspaces_and_linefeeds

    @ex.main
    def main():
        for percent in (10, 50, 100):
            print(f"\rprogress {percent}%", end="")
        print()
        print("abc\b\bX")

    run = ex.run(options=FAST)
    assert run.captured_out == "progress 100%\naXc\n"


def test_unknown_capture_mode_is_a_clear_error():
    with pytest.raises(ConfigError, match="unknown capture mode 'tee'"):
        make_capture("tee")


def test_output_since_last_beat_kept_on_interrupt(ex, recorder):
    @ex.main
    def main():
        print("last words")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ex.run(options={**FAST, "--beat-interval": 100})
    assert "last words" in recorder.of("heartbeat_event")[-1]["captured_out"]


def test_apply_backspaces_and_linefeeds():
    assert apply_backspaces_and_linefeeds("a\rb\nxy\b\bz") == "b\nzy"
    assert apply_backspaces_and_linefeeds("keep\r\n") == "keep\n"
    assert apply_backspaces_and_linefeeds("12345\r67") == "67345"


def _drain(logger: MetricsLogger) -> dict:
    """All drained points in one dict (there is at most one batch without a batch size)."""
    batches = list(logger.drain())
    assert len(batches) <= 1
    return batches[0] if batches else {}


def test_drain_in_bounded_batches_keeps_order():
    logger = MetricsLogger()
    for i in range(25):
        logger.log_scalar("a", i)
    logger.collect()
    for i in range(10):
        logger.log_scalar("b", i)
    batches = list(logger.drain(batch_size=10))
    assert [sum(len(s["steps"]) for s in batch.values()) for batch in batches] == [10, 10, 10, 5]
    merged: dict = {}
    for batch in batches:
        for name, series in batch.items():
            merged.setdefault(name, []).extend(series["values"])
    assert merged == {"a": list(range(25)), "b": list(range(10))}
    assert all(len(s["timestamps"]) == len(s["values"]) for b in batches for s in b.values())


def test_default_steps_count_per_metric():
    logger = MetricsLogger()
    logger.log_scalar("a", 1.0)
    logger.log_scalar("a", 2.0)
    logger.log_scalar("b", 3.0)
    logger.log_scalar("a", 4.0, step=10)
    logger.log_scalar("a", 5.0)
    drained = _drain(logger)
    assert drained["a"]["steps"] == [0, 1, 10, 11]
    assert drained["b"]["steps"] == [0]
    assert list(logger.drain()) == []


def test_numpy_values_are_converted_and_nan_inf_kept():
    logger = MetricsLogger()
    logger.log_scalar("x", np.float32(0.5))
    logger.log_scalar("x", np.int64(3), step=np.int64(5))
    logger.log_scalar("x", float("nan"))
    logger.log_scalar("x", float("inf"))
    logger.log_scalar("x", True)
    series = _drain(logger)["x"]
    assert series["steps"] == [0, 5, 6, 7, 8]
    assert type(series["values"][0]) is float and type(series["values"][1]) is int
    assert type(series["steps"][1]) is int
    assert math.isnan(series["values"][2]) and series["values"][3] == math.inf
    assert series["values"][4] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((3, 1.0), "metric name must be a string"),
        (("x", "high"), "value must be a number"),
        (("x", 1.0, "first"), "step must be a number"),
    ],
)
def test_bad_log_scalar_arguments_raise_at_the_call(args, message):
    with pytest.raises(TypeError, match=message):
        MetricsLogger().log_scalar(*args)


def test_drain_while_logging_from_another_thread_loses_nothing():
    logger = MetricsLogger()
    total = 200_000
    received = []
    done = threading.Event()

    def produce():
        for i in range(total):
            logger.log_scalar("x", i)
        done.set()

    producer = threading.Thread(target=produce)
    producer.start()
    while not done.is_set():
        logger.collect()  # the heartbeat thread's tick
        received.extend(_drain(logger).get("x", {}).get("values", []))
    producer.join()
    received.extend(_drain(logger).get("x", {}).get("values", []))
    assert received == list(range(total))


def test_linearize_metrics_groups_entries():
    import datetime

    now = datetime.datetime(2024, 1, 1)
    grouped = linearize_metrics(
        [ScalarMetricLogEntry("a", 0, now, 1.0), ScalarMetricLogEntry("a", 1, now, 2.0)]
    )
    assert grouped == {
        "a": {"name": "a", "steps": [0, 1], "values": [1.0, 2.0], "timestamps": [now, now]}
    }


def test_packed_columns_keep_every_value_in_its_stored_form():
    logger = MetricsLogger()
    big = 2**60
    logger.log_scalar("mixed", 1)
    logger.log_scalar("mixed", 2.5)
    logger.log_scalar("mixed", float("nan"))
    logger.log_scalar("mixed", big)  # beyond 2**53: stored as the float equal to it
    with pytest.raises(ValueError, match="step must be a whole number"):
        logger.log_scalar("mixed", 7, step=2.5)
    logger.log_scalar("mixed", 7, step=9.0)
    logger.log_scalar("steps", 1.0, step=2**62)
    logger.collect()
    series = _drain(logger)
    values = series["mixed"]["values"]
    assert [type(v) for v in values] == [int, float, float, float, int]
    assert values[0] == 1 and values[1] == 2.5 and math.isnan(values[2]) and values[3] == big
    assert series["mixed"]["steps"] == [0, 1, 2, 3, 9]
    assert series["steps"]["steps"] == [2**62]


@pytest.mark.parametrize("mode", ["sys", "fd"])
def test_capture_keeps_line_order_without_explicit_flushes(ex, mode):
    @ex.main
    def main():
        for index in range(3):
            print(f"out {index}")
            sys.stderr.write(f"err {index}\n")

    run = ex.run(options={**FAST, "--capture": mode})
    expected = [f"{kind} {index}" for index in range(3) for kind in ("out", "err")]
    assert run.captured_out.splitlines()[-6:] == expected
