"""The folder family: a run as a folder of files over a :class:`BlobStore`.

:mod:`.store` is the interface a sink implements, :mod:`.writer` the observer, :mod:`.reader`
the reader. The layout is described in :mod:`.writer`.
"""

from .reader import FolderReader
from .store import BlobStore
from .writer import FolderObserver

__all__ = ["BlobStore", "FolderObserver", "FolderReader"]
