"""Corpus, category "metric": ``log_scalar`` inputs, refused at the call or stored losslessly.

Each case is ``(id, name, value, step, expected)``; ``expected`` is either an exception
``(type, message part)`` raised at ``log_scalar`` (and nothing stored for it), or the
``(step, value)`` every sink reads back. After the bad point the run logs good ones, which
must all be stored, and the baseline run must be intact.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from .conftest import assert_intact, record, snapshot

NAN, INF = float("nan"), float("inf")

REFUSED: list[tuple[str, Any, Any, Any, tuple[type, str]]] = [
    ("name-int", 3, 1.0, None, (TypeError, "must be a string")),
    ("name-none", None, 1.0, None, (TypeError, "must be a string")),
    ("name-bytes", b"loss", 1.0, None, (TypeError, "must be a string")),
    ("name-empty", "", 1.0, None, (ValueError, "is empty")),
    ("name-256-chars", "n" * 256, 1.0, None, (ValueError, "at most 255")),
    ("name-300-chars", "x" * 300, 1.0, None, (ValueError, "at most 255")),
    ("name-nul", "a\x00b", 1.0, None, (ValueError, "NUL")),
    ("name-surrogate", "bad\udc80", 1.0, None, (ValueError, "surrogate")),
    ("step-1.5", "m", 1.0, 1.5, (ValueError, "whole number")),
    ("step-nan", "m", 1.0, NAN, (ValueError, "whole number")),
    ("step-inf", "m", 1.0, INF, (ValueError, "whole number")),
    ("step-2**70", "m", 1.0, 2**70, (ValueError, "64-bit range")),
    ("step--2**70", "m", 1.0, -(2**70), (ValueError, "64-bit range")),
    ("step-str", "m", 1.0, "3", (TypeError, "step must be a number")),
    ("value-2**70+1", "m", 2**70 + 1, None, (ValueError, "no exact 64-bit float")),
    ("value-10**400", "m", 10**400, None, (ValueError, "no exact 64-bit float")),
    ("value-str", "m", "1.5", None, (TypeError, "value must be a number")),
    ("value-none", "m", None, None, (TypeError, "value must be a number")),
    ("value-list", "m", [1.0], None, (TypeError, "value must be a number")),
    ("value-complex", "m", 1j, None, (TypeError, "value must be a number")),
]

STORED: list[tuple[str, Any, Any, Any, tuple[int, float]]] = [
    ("name-255-chars", "n" * 255, 1.0, None, (0, 1.0)),
    ("name-dots-dollar", "a.b$c", 2.0, None, (0, 2.0)),
    ("name-unicode", "loss 🔥 ünï", 3.0, None, (0, 3.0)),
    ("name-spaces", "  padded  ", 4.0, None, (0, 4.0)),
    ("value-nan", "m", NAN, None, (0, NAN)),
    ("value-inf", "m", INF, None, (0, INF)),
    ("value--inf", "m", -INF, None, (0, -INF)),
    ("value-2**70", "m", 2**70, None, (0, 2.0**70)),
    ("value-bool", "m", True, None, (0, 1.0)),
    ("value-decimal", "m", Decimal("0.1"), None, (0, 0.1)),
    ("value-fraction", "m", Fraction(1, 4), None, (0, 0.25)),
    ("value-numpy-float32", "m", np.float32(0.5), None, (0, 0.5)),
    ("value-numpy-int64", "m", np.int64(7), None, (0, 7.0)),
    ("value-subnormal", "m", 5e-324, None, (0, 5e-324)),
    ("value-max-float", "m", 1.7976931348623157e308, None, (0, 1.7976931348623157e308)),
    ("step-3.0", "m", 1.0, 3.0, (3, 1.0)),
    ("step-2**63-1", "m", 1.0, 2**63 - 1, (2**63 - 1, 1.0)),
    ("step--2**63", "m", 1.0, -(2**63), (-(2**63), 1.0)),
    ("step-numpy-int32", "m", 1.0, np.int32(4), (4, 1.0)),
    ("step-negative", "m", 1.0, -5, (-5, 1.0)),
]


def _same(read: float, expected: float) -> bool:
    return (math.isnan(expected) and math.isnan(read)) or read == expected


@pytest.mark.parametrize(
    ("name", "value", "step", "expected"),
    [case[1:] for case in REFUSED],
    ids=[case[0] for case in REFUSED],
)
def test_refused_at_log_scalar(store, baseline, name, value, step, expected):
    kind, message = expected
    caught: list[BaseException] = []

    def main(_run):
        try:
            _run.log_scalar(name, value, step)
        except Exception as error:
            caught.append(error)
        for index in range(3):
            _run.log_scalar("after", float(index))

    run = record(store, main)
    assert len(caught) == 1 and isinstance(caught[0], kind), caught
    assert message in str(caught[0]) and "\n" not in str(caught[0])
    shot = snapshot(store, run._id)
    assert shot.status == "COMPLETED"
    assert shot.metrics == {"after": ([0, 1, 2], [0.0, 1.0, 2.0])}
    assert_intact(store, baseline)


@pytest.mark.parametrize(
    ("name", "value", "step", "expected"),
    [case[1:] for case in STORED],
    ids=[case[0] for case in STORED],
)
def test_stored_losslessly(store, baseline, name, value, step, expected):
    def main(_run):
        _run.log_scalar(name, value, step)
        _run.log_scalar("after", 1.0)

    run = record(store, main)
    shot = snapshot(store, run._id)
    assert shot.status == "COMPLETED"
    (steps, values) = shot.metrics[name]
    assert steps == [expected[0]] and len(values) == 1
    assert _same(values[0], expected[1]), values
    assert shot.metrics["after"] == ([0], [1.0])
    assert_intact(store, baseline)
