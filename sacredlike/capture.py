"""Capturing a run's stdout and stderr, interleaved into one text.

Modes:

* ``"no"``: nothing is captured.
* ``"sys"``: Python-level writes to ``sys.stdout`` / ``sys.stderr`` are copied.
* ``"fd"``: file descriptors 1 and 2 are redirected into a pipe that a reader thread copies
  to the original stdout and into the capture, so output of C code and subprocesses is
  included.

Text is appended to an ``io.StringIO`` (amortised growth, no quadratic re-copying);
:meth:`OutputCapture.text` returns it whole. ``StringIO`` calls are single C calls, atomic
under the GIL, so writers from several threads need no lock.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import logging
import os
import sys
import threading
from typing import Any, TextIO

from .errors import ConfigError

CAPTURE_MODES = ("no", "sys", "fd")
_log = logging.getLogger(__name__)


class OutputCapture:
    """Base: collects text; ``start``/``stop`` install and remove the redirection."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self.write = self._buffer.write  # type: ignore[method-assign]  # the fast path

    def start(self) -> None:
        """Begin capturing."""

    def stop(self) -> None:
        """Stop capturing; everything written before is in :meth:`text` afterwards."""

    def flush(self) -> None:
        """Push buffered writes so far into the capture."""

    def write(self, text: str) -> int:
        """Add ``text`` to the captured output (replaced per instance by the buffer's write)."""
        return self._buffer.write(text)

    def text(self) -> str:
        """All output captured so far."""
        return self._buffer.getvalue()

    def size(self) -> int:
        """Number of characters captured so far (cheap: no copy)."""
        return self._buffer.tell()


class _Tee(io.TextIOBase):
    """A text stream that writes to the original stream and to a capture."""

    def __init__(self, original: TextIO, capture: OutputCapture) -> None:
        super().__init__()
        self._original = original
        self._echo = original.write
        self._keep = capture.write

    def write(self, text: str) -> int:
        self._echo(text)
        self._keep(text)
        return len(text)

    def flush(self) -> None:
        self._original.flush()

    def isatty(self) -> bool:
        return self._original.isatty()

    def fileno(self) -> int:
        return self._original.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._original, "encoding", "utf-8")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


class SysCapture(OutputCapture):
    """Copies Python-level writes to ``sys.stdout`` and ``sys.stderr``."""

    def start(self) -> None:
        """Replace ``sys.stdout``/``sys.stderr`` with tees."""
        self._saved = (sys.stdout, sys.stderr)
        sys.stdout = _Tee(sys.stdout, self)
        sys.stderr = _Tee(sys.stderr, self)

    def stop(self) -> None:
        """Put the original streams back."""
        sys.stdout, sys.stderr = self._saved

    def flush(self) -> None:
        """Flush both streams."""
        for stream in (sys.stdout, sys.stderr):
            stream.flush()


class FdCapture(OutputCapture):
    """Redirects file descriptors 1 and 2 into a pipe read by a background thread."""

    join_timeout = 2.0  # a subprocess still holding the pipe must not hang the run's end

    def start(self) -> None:
        """Redirect fds 1 and 2 and start the reader thread."""
        _flush_std_streams()
        self._saved_fds = (os.dup(1), os.dup(2))
        self._saved_streams = (sys.stdout, sys.stderr)
        read_end, write_end = os.pipe()
        os.dup2(write_end, 1)
        os.dup2(write_end, 2)
        os.close(write_end)
        encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
        # Python-level writes go to the redirected fds too, even where sys.stdout was
        # replaced (IDEs, pytest). Like Python's own streams, stdout is line-buffered only
        # on a terminal (otherwise every print would be a system call); stderr always is.
        stdout_buffering = 1 if self._saved_streams[0].isatty() else -1
        sys.stdout = open(  # noqa: SIM115
            1, "w", encoding=encoding, closefd=False, buffering=stdout_buffering
        )
        sys.stderr = open(2, "w", encoding=encoding, closefd=False, buffering=1)  # noqa: SIM115
        self._reader = threading.Thread(
            target=self._pump, args=(read_end, encoding), name="sacredlike-fd-capture", daemon=True
        )
        self._reader.start()

    def _pump(self, read_end: int, encoding: str) -> None:
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        echo = self._saved_fds[0]
        try:
            while True:
                data = os.read(read_end, 65536)
                if not data:
                    break
                _write_all(echo, data)
                self.write(decoder.decode(data))
            self.write(decoder.decode(b"", final=True))
        finally:
            os.close(read_end)

    def flush(self) -> None:
        """Flush Python's buffers into the pipe."""
        _flush_std_streams()

    def stop(self) -> None:
        """Restore fds 1 and 2 and wait for the reader to copy what is left."""
        _flush_std_streams()
        sys.stdout, sys.stderr = self._saved_streams
        saved_out, saved_err = self._saved_fds
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        self._reader.join(self.join_timeout)
        if self._reader.is_alive():
            _log.warning(
                "output capture: a subprocess still holds the run's stdout; its later output "
                "is shown but not recorded"
            )
        else:
            os.close(saved_out)
        os.close(saved_err)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except OSError:
            return  # the original stdout went away; keep capturing regardless
        view = view[written:]


def _flush_std_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()


def make_capture(mode: str) -> OutputCapture:
    """The capture for ``mode`` (``"no"``, ``"sys"`` or ``"fd"``).

    ``"fd"`` falls back to ``"sys"`` with a warning where fds 1 and 2 cannot be duplicated.

    Raises:
        ConfigError: unknown mode.
    """
    if mode == "no":
        return OutputCapture()
    if mode == "sys":
        return SysCapture()
    if mode == "fd":
        try:
            os.fstat(1)
            os.fstat(2)
        except OSError:
            _log.warning("capture mode 'fd' unavailable (no stdout/stderr fd); using 'sys'")
            return SysCapture()
        return FdCapture()
    raise ConfigError(f"unknown capture mode {mode!r}; choose one of {', '.join(CAPTURE_MODES)}")
