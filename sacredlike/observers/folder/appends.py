"""Appending to an object that cannot be appended to: a base object, part objects, a spool.

A key ``<dir>/<name>`` that is appended to is stored as

* the **base** object ``<dir>/<name>``: the first ``base_size`` bytes;
* **parts** ``<dir>/.<name>.parts/<offset>``: each later append as its own object, named by
  the byte offset where it starts (16 digits, so names sort in order);

and the writer keeps every byte in a local **spool** file as well. When the bytes held in
parts reach the size of the base, the base is rewritten from the spool and the parts are
deleted; so every beat uploads only its new bytes plus, amortised, at most as many again
(the base doubles each time), and :meth:`ObjectBlobStore.flush` leaves the base whole and
no parts at the end of the run. A reader joins the base and the parts that start at or
after its end (older parts are leftovers of a rewrite, covered by the base).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

OFFSET_DIGITS = 16


def parts_prefix(name: str) -> str:
    """Where the parts of object ``name`` live (``a/b.txt`` → ``a/.b.txt.parts/``)."""
    path = PurePosixPath(name)
    parent = "" if str(path.parent) == "." else f"{path.parent}/"
    return f"{parent}.{path.name}.parts/"


def part_name(name: str, offset: int) -> str:
    """The part of ``name`` that starts at byte ``offset``."""
    return f"{parts_prefix(name)}{offset:0{OFFSET_DIGITS}d}"


def part_offset(part: str) -> int | None:
    """The offset a part name encodes, or None if ``part`` is not a part name."""
    tail = part.rsplit("/", 1)[-1]
    return int(tail) if len(tail) == OFFSET_DIGITS and tail.isdigit() else None


@dataclass
class AppendedObject:
    """What a writer knows about one appended key: its spool, base size and parts.

    Attributes:
        spool: path of the local file holding every byte of the object.
        size: bytes in the spool.
        base_size: bytes held by the base object.
        parts: part names beyond the base, in order.
        stale: part names covered by the base whose deletion failed (deleted later).
    """

    spool: str
    size: int = 0
    base_size: int = 0
    parts: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, content: bytes, base_size: int, parts: list[str]) -> AppendedObject:
        """A new spool holding ``content`` (what the store holds now)."""
        descriptor, path = tempfile.mkstemp(prefix="sacredlike-append-")
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        return cls(path, len(content), base_size, list(parts))

    def add(self, data: bytes) -> int:
        """Append ``data`` to the spool; return the offset where it starts."""
        offset = self.size
        with open(self.spool, "ab") as handle:
            handle.write(data)
        self.size += len(data)
        return offset

    def undo(self, offset: int) -> None:
        """Cut the spool back to ``offset`` (an append that did not reach the store)."""
        os.truncate(self.spool, offset)
        self.size = offset

    def rewrite_due(self) -> bool:
        """Whether the parts (plus the newest bytes) hold at least as much as the base."""
        return self.size - self.base_size >= self.base_size

    def rebased(self) -> list[str]:
        """Record that the base now holds the whole spool; return the parts it covers."""
        covered = self.parts + self.stale
        self.base_size, self.parts, self.stale = self.size, [], []
        return covered

    def discard(self) -> None:
        """Remove the spool file."""
        if os.path.exists(self.spool):
            os.unlink(self.spool)
