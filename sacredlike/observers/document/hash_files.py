"""A content-addressed folder in the HashFS layout, as Sacred's TinyDbObserver writes it.

A file's id is the md5 hex digest of its content (what Sacred 0.8.7 uses); it lives at
``<root>/<id[0:2]>/<id[2:4]>/<id[4:6]>/<id[6:]>`` (depth 3, width 2). Each content is
stored once: a file is streamed into a temporary file beside the others while its digest
is computed, then renamed into place, or dropped if that content is already there. The
``hashfs`` package reads this folder (``HashFS(root, depth=3, width=2, algorithm="md5")``)
but is not needed to write it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import IO

CHUNK = 1 << 20
DEPTH, WIDTH = 3, 2


class HashFiles:
    """The hash store at ``root`` (created on the first :meth:`put`)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, file_id: str) -> Path:
        """Where the file ``file_id`` is (or would be) stored."""
        cut = DEPTH * WIDTH
        parts = [file_id[i : i + WIDTH] for i in range(0, cut, WIDTH)]
        return self.root.joinpath(*parts, file_id[cut:])

    def put(self, data: IO[bytes], known_id: str | None = None) -> str:
        """Store the content of ``data`` and return its id.

        Args:
            data: a binary stream, read in chunks from its current position.
            known_id: the content's md5 if the caller knows it; when that file is already
                stored, ``data`` is not read at all.
        """
        if known_id is not None and self.path(known_id).is_file():
            return known_id
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.md5(usedforsecurity=False)
        handle, temporary = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                while chunk := data.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
            file_id = digest.hexdigest()
            target = self.path(file_id)
            if target.is_file():
                os.unlink(temporary)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.chmod(temporary, 0o644)
                os.replace(temporary, target)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        return file_id

    def open(self, file_id: str) -> IO[bytes]:
        """The stored file ``file_id``, opened for reading (``FileNotFoundError`` if absent)."""
        return open(self.path(file_id), "rb")
