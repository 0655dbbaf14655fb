"""The one rule for metric names, steps and values, applied where a point is logged.

Every sink stores exactly what this rule lets through, and reads it back the same
(``docs/values.md``):

* **name**: a non-empty ``str`` of at most :data:`MAX_NAME_LENGTH` characters, without NUL
  and without lone surrogates (text no database or UTF-8 file can hold).
* **step**: an integer in the signed 64-bit range; a float step is accepted only when it is a
  whole number (``3.0`` is step 3), so ``1.5`` is refused rather than truncated.
* **value**: a real number, stored as a 64-bit float. NaN and infinities stay. An int beyond
  ±2**53 is stored as the float equal to it, and refused when no float is (``2**70`` is kept,
  ``2**70 + 1`` is refused); strings and bytes are refused even when they look like numbers.

:func:`point_problem` tells a sink why a point it received by another path breaks the rule.
"""

from __future__ import annotations

import math
from typing import Any

from .serialize import number

MAX_NAME_LENGTH = 255
"""Longest metric name (the SQL sink's ``metrics.name`` column)."""

STEP_MIN, STEP_MAX = -(2**63), 2**63 - 1
"""The range of steps (the SQL sink's ``BIGINT``, MongoDB's int64)."""

EXACT_INT = 2**53
"""Ints within ±EXACT_INT are exact as 64-bit floats and kept as they are."""


def check_name(name: Any) -> str:
    """``name`` if it is a storable metric name.

    Raises:
        TypeError: not a string. ValueError: empty, too long, or holds NUL or a surrogate.
    """
    if type(name) is not str:
        raise TypeError(f"log_scalar: metric name must be a string, got {name!r}")
    problem = _name_problem(name)
    if problem:
        raise ValueError(f"log_scalar: metric name {_short(name)} {problem}")
    return name


def _name_problem(name: str) -> str:
    if not name:
        return "is empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"has {len(name)} characters; at most {MAX_NAME_LENGTH} are allowed"
    if "\x00" in name:
        return "contains a NUL character"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (not valid Unicode text)"
    return ""


def check_step(name: str, step: Any) -> int:
    """``step`` as an int in the 64-bit range.

    Raises:
        TypeError: not a number. ValueError: not a whole number, or out of range.
    """
    converted = _real(name, "step", step)
    if isinstance(converted, float):
        if not converted.is_integer():
            raise ValueError(
                f"log_scalar({_short(name)}): step must be a whole number, got {step!r}"
            )
        converted = int(converted)
    if not STEP_MIN <= converted <= STEP_MAX:
        raise ValueError(
            f"log_scalar({_short(name)}): step {converted} is outside the 64-bit range "
            f"[-2**63, 2**63 - 1]"
        )
    return converted


def check_value(name: str, value: Any) -> int | float:
    """``value`` as a Python int (within ±2**53) or float.

    Raises:
        TypeError: not a real number. ValueError: an int no 64-bit float equals.
    """
    converted = _real(name, "value", value)
    if isinstance(converted, int) and not -EXACT_INT <= converted <= EXACT_INT:
        try:
            as_float = float(converted)
        except OverflowError:
            as_float = math.inf
        if as_float != converted:
            raise ValueError(
                f"log_scalar({_short(name)}): value {_short(converted)} has no exact "
                "64-bit float; pass float(value) to store it rounded"
            )
        return as_float
    return converted


def point_problem(name: Any, step: Any, value: Any) -> str:
    """Why the point breaks the rule (one line), or ``""`` when it is storable as it is."""
    try:
        check_name(name)
        check_step(name, step)
        check_value(name, value)
    except (TypeError, ValueError) as error:
        return str(error)
    return ""


def _real(name: str, what: str, value: Any) -> int | float:
    if not isinstance(value, (str, bytes, bytearray)):
        try:
            return number(value)
        except (TypeError, OverflowError):
            pass
    raise TypeError(
        f"log_scalar({_short(name)}): {what} must be a number, got {type(value).__name__} "
        f"{_short(value)}"
    )


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to about ``limit`` characters, for one-line messages."""
    shown = repr(value)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."
