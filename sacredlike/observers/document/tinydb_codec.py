"""Values in Sacred's TinyDB format: the tags of ``tinydb-serialization``.

Sacred's TinyDbObserver stores values JSON cannot hold as tagged strings:

* ``"{TinyDate}:2024-05-01T12:00:00.000000"`` — a naive UTC ``datetime``
  (``%Y-%m-%dT%H:%M:%S.%f``);
* ``'{TinyFile}:"<id>"'`` — a file of the hash store, its id JSON-encoded;
* ``{TinyArray}``, ``{TinyDataFrame}``, ``{TinySeries}`` — numpy / pandas values as JSON
  text (Sacred writes them when numpy / pandas are installed; sacredlike never does, since
  :func:`sacredlike.serialize.flatten` turns them into lists, and reads them as plain data).

File lists have Sacred's shapes in the store (:func:`sacred_shapes`) and the document
writer's shapes in memory (:func:`writer_shapes`): ``experiment.sources``
``[path, id, ref]`` / ``[path, id]``, ``resources`` ``[path, id, ref]`` / ``[path, md5]``
(the id is the md5), ``artifacts`` ``[name, filename, id, ref]`` / ``{"name", "file_id"}``.

This module imports nothing but the standard library.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable
from typing import Any

DATE_TAG = "{TinyDate}:"
FILE_TAG = "{TinyFile}:"
_JSON_TAGS = ("{TinyArray}:", "{TinyDataFrame}:", "{TinySeries}:")
_SCALARS = frozenset({str, int, float, bool, type(None)})


def encode_date(value: _dt.datetime) -> str:
    """The tagged text of a datetime (aware ones are converted to naive UTC first)."""
    if value.tzinfo is not None:
        value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return DATE_TAG + value.isoformat(timespec="microseconds")


def encode_dates(values: list[_dt.datetime]) -> list[str]:
    """The tagged texts of many datetimes (the fast path for metric timestamps)."""
    return [
        DATE_TAG + value.isoformat(timespec="microseconds")
        if value.tzinfo is None
        else encode_date(value)
        for value in values
    ]


def file_ref(file_id: str) -> str:
    """The tagged reference to the hash-store file ``file_id``."""
    return FILE_TAG + json.dumps(file_id)


def encode(value: Any) -> Any:
    """Flattened data (see :func:`sacredlike.serialize.flatten`) with datetimes tagged."""
    if isinstance(value, dict):
        return {key: encode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [item if type(item) in _SCALARS else encode(item) for item in value]
    if isinstance(value, _dt.datetime):
        return encode_date(value)
    return value


def decode(value: Any, open_file: Callable[[str], Any] | None = None) -> Any:
    """Inverse of :func:`encode`, also reading Sacred's other tags.

    Args:
        value: data as loaded from ``metadata.json``.
        open_file: called with a file id for each ``{TinyFile}`` value; None keeps the id.
    """
    if isinstance(value, dict):
        return {key: decode(item, open_file) for key, item in value.items()}
    if isinstance(value, list):
        return [decode(item, open_file) for item in value]
    if not isinstance(value, str) or not value.startswith("{Tiny"):
        return value
    if value.startswith(DATE_TAG):
        return _dt.datetime.fromisoformat(value[len(DATE_TAG) :])
    if value.startswith(FILE_TAG):
        file_id = json.loads(value[len(FILE_TAG) :])
        return open_file(file_id) if open_file is not None else file_id
    for tag in _JSON_TAGS:
        if value.startswith(tag):
            return json.loads(value[len(tag) :])
    return value


def sacred_shapes(fields: dict[str, Any]) -> dict[str, Any]:
    """Encoded run fields (see :func:`encode`) with the file lists in Sacred's shapes."""
    encoded = encode(fields)
    experiment = encoded.get("experiment")
    if isinstance(experiment, dict) and "sources" in experiment:
        experiment["sources"] = [
            [path, file_id, file_ref(file_id) if file_id else None]
            for path, file_id, *_ in experiment["sources"]
        ]
    if "resources" in encoded:
        encoded["resources"] = [
            [path, md5, file_ref(md5)] for path, md5, *_ in encoded["resources"]
        ]
    if "artifacts" in encoded:
        encoded["artifacts"] = [
            [a["name"], a["name"], a["file_id"], file_ref(a["file_id"])]
            for a in encoded["artifacts"]
        ]
    return encoded


def writer_shapes(document: dict[str, Any]) -> dict[str, Any]:
    """A stored run document (ours or Sacred's) decoded, its file lists in the writer's shapes."""
    decoded = decode(document)
    experiment = decoded.get("experiment")
    if isinstance(experiment, dict) and "sources" in experiment:
        experiment["sources"] = [[path, file_id] for path, file_id, *_ in experiment["sources"]]
    if "resources" in decoded:
        decoded["resources"] = [[path, file_id] for path, file_id, *_ in decoded["resources"]]
    if "artifacts" in decoded:
        decoded["artifacts"] = [
            {"name": name, "file_id": file_id} for name, _, file_id, *_ in decoded["artifacts"]
        ]
    return decoded
