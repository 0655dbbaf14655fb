"""Turning user values into data every store can hold.

One rule for every sink: :func:`flatten` maps a value to plain JSON types (dict with string
keys, list, str, int, float, bool, None), keeping ``datetime`` objects for the writers to
encode natively (ISO strings in files, dates in MongoDB and SQL). NaN and infinities stay
floats. Conversions:

* tuples, sets and frozensets → lists (sets sorted when their items allow it);
* numpy scalars → Python numbers; numpy arrays → nested lists;
* ``date``/``time`` → ISO strings; ``pathlib`` paths → strings; enums → their value;
* dict keys that are not strings → ``str(key)``;
* anything else → jsonpickle's JSON form (a dict with ``py/object``), which
  ``jsonpickle.decode(json.dumps(value))`` turns back into the object.
"""

from __future__ import annotations

import datetime as _dt
import enum
import json
import os
from collections.abc import Mapping
from typing import Any

_PLAIN = (str, int, float, bool, type(None), _dt.datetime)


def flatten(value: Any) -> Any:
    """Return ``value`` as plain JSON-compatible data (datetimes kept), never mutating it."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, Mapping):
        return {_key(k): flatten(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [flatten(v) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [flatten(v) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    numpy_value = _from_numpy(value)
    if numpy_value is not _NOT_NUMPY:
        return numpy_value
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, enum.Enum):
        return flatten(value.value)
    return _pickled(value)


def _key(key: Any) -> str:
    return key if isinstance(key, str) else str(key)


_NOT_NUMPY = object()


def _from_numpy(value: Any) -> Any:
    module = type(value).__module__
    if not module.startswith("numpy"):
        return _NOT_NUMPY
    if hasattr(value, "tolist"):  # ndarray and numpy scalars
        return flatten(value.tolist())
    return _NOT_NUMPY


def _pickled(value: Any) -> Any:
    import jsonpickle

    return json.loads(jsonpickle.encode(value, keys=True, warn=True))


def _encode_datetime(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dumps(value: Any, *, indent: int | None = 2) -> str:
    """JSON text of ``value`` in Sacred's file style: sorted keys, indent 2, ISO datetimes."""
    return json.dumps(
        flatten(value), sort_keys=True, indent=indent, default=_encode_datetime, allow_nan=True
    )


def number(value: Any) -> int | float:
    """Return ``value`` as a Python int or float (numpy scalars, bools and Decimals included).

    Raises:
        TypeError: ``value`` is not a real number.
    """
    if type(value) is float or type(value) is int:
        return value
    if hasattr(value, "item") and type(value).__module__.startswith("numpy"):
        value = value.item()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return int(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"expected a number, got {type(value).__name__} {value!r}") from None
