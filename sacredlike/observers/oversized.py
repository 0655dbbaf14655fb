"""Run fields too big for the database, kept whole as files of the run.

When ``config``, ``info`` and ``result`` together would take one write past what the
server accepts (MariaDB's ``max_allowed_packet``, 16 MiB by default; MongoDB's 16 MB
documents), the largest of them are stored as files of the run and their place holds a
note naming the file::

    {"stored_in_file": ".sacredlike/info.json", "bytes": 20000011}

A document's note on ``info`` also keeps the ``metrics`` references (Omniboard reads them
there). Readers put the value back in place of the note, so what reads back is what was
given. Without this, one beat carrying a 20 MB ``info`` would be refused every time: the
value was lost, and on MariaDB the run stayed RUNNING for ever.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

MOVABLE_FIELDS = ("config", "info", "result")
"""The fields whose values may be moved to files."""
NOTE_KEY = "stored_in_file"


def too_big(
    fields: Mapping[str, Any], encode: Callable[[Any], bytes], budget: int
) -> dict[str, bytes]:
    """The movable ``fields`` to store as files, with their content as ``encode`` gives it.

    The largest go first, until the others take at most ``budget`` bytes; an empty dict
    when everything fits.
    """
    encoded = {
        field: encode(fields[field]) for field in MOVABLE_FIELDS if fields.get(field) is not None
    }
    left = sum(map(len, encoded.values()))
    moved = {}
    for field in sorted(encoded, key=lambda field: len(encoded[field]), reverse=True):
        if left <= budget:
            break
        moved[field] = encoded[field]
        left -= len(encoded[field])
    return moved


def note(name: str, size: int, **kept: Any) -> dict[str, Any]:
    """What stands in place of a field stored as file ``name`` of ``size`` bytes."""
    return {NOTE_KEY: name, "bytes": size, **kept}


def noted_file(value: Any) -> str | None:
    """The file a note names, or None if ``value`` is not a note."""
    if not isinstance(value, dict) or not {NOTE_KEY, "bytes"} <= set(value):
        return None
    name = value[NOTE_KEY]
    return name if isinstance(name, str) and set(value) <= {NOTE_KEY, "bytes", "metrics"} else None
