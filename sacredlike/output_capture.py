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

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

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


class _TeeRaw(io.RawIOBase):
    """The bytes end of a capturing stream: decodes, echoes to the original, keeps a copy.

    Python's own ``TextIOWrapper`` and ``BufferedWriter`` sit on top of it, so ``print``
    stays in C until a buffer fills (or a line ends on a terminal): one Python call per
    buffer instead of two per ``print``.
    """

    def __init__(self, original: TextIO, capture: OutputCapture, encoding: str) -> None:
        super().__init__()
        self._original = original
        self._keep = capture.write
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self.before_write: Any = None  # called first (stderr flushes stdout: keeps order)

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.before_write is not None:
            self.before_write()
        text = self._decoder.decode(bytes(data))
        self._original.write(text)
        self._keep(text)
        return len(data)

    def flush(self) -> None:
        self._original.flush()

    def isatty(self) -> bool:
        return self._original.isatty()

    def fileno(self) -> int:
        return self._original.fileno()


class _OrderedFileIO(io.FileIO):
    """A file descriptor stream that calls ``before_write`` before each write."""

    before_write: Any = None

    def write(self, data: Any) -> int:
        if self.before_write is not None:
            self.before_write()
        return super().write(data)


def _tee_stream(
    original: TextIO, capture: OutputCapture, *, line_buffering: bool
) -> tuple[TextIO, _TeeRaw]:
    encoding = getattr(original, "encoding", None) or "utf-8"
    raw = _TeeRaw(original, capture, encoding)
    stream = io.TextIOWrapper(
        io.BufferedWriter(raw),
        encoding=encoding,
        errors="backslashreplace",
        line_buffering=line_buffering,
    )
    return stream, raw


class SysCapture(OutputCapture):
    """Copies Python-level writes to ``sys.stdout`` and ``sys.stderr``.

    stdout is line-buffered on a terminal and block-buffered otherwise (as Python does);
    stderr is line-buffered and flushes stdout before each write, so the captured text keeps
    the order in which lines were written to the two streams.
    """

    def start(self) -> None:
        """Replace ``sys.stdout``/``sys.stderr`` with capturing streams."""
        self._saved = (sys.stdout, sys.stderr)
        stdout, _ = _tee_stream(sys.stdout, self, line_buffering=sys.stdout.isatty())
        stderr, stderr_raw = _tee_stream(sys.stderr, self, line_buffering=True)
        stderr_raw.before_write = stdout.flush
        sys.stdout, sys.stderr = stdout, stderr

    def stop(self) -> None:
        """Flush and put the original streams back."""
        self.flush()
        sys.stdout, sys.stderr = self._saved

    def flush(self) -> None:
        """Flush both streams."""
        for stream in (sys.stdout, sys.stderr):
            stream.flush()


class FdCapture(OutputCapture):
    """Redirects file descriptors 1 and 2 into a pipe read by a background thread."""

    join_timeout = 2.0  # a subprocess still holding the pipe must not hang the run's end
    _reader: threading.Thread | None = None

    def start(self) -> None:
        """Redirect fds 1 and 2 and start the reader thread."""
        _flush_std_streams()
        self._saved_fds = (os.dup(1), os.dup(2))
        self._saved_streams = (sys.stdout, sys.stderr)
        read_end, write_end = os.pipe()
        _enlarge_pipe(write_end)
        os.dup2(write_end, 1)
        os.dup2(write_end, 2)
        os.close(write_end)
        encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
        # Python-level writes go to the redirected fds too, even where sys.stdout was
        # replaced (IDEs, pytest). Like Python's own streams, stdout is line-buffered only
        # on a terminal (otherwise every print would be a system call); stderr always is,
        # and flushes stdout before each write so lines keep their order.
        stdout_buffering = 1 if self._saved_streams[0].isatty() else -1
        stdout = open(  # noqa: SIM115
            1, "w", encoding=encoding, closefd=False, buffering=stdout_buffering
        )
        stderr_raw = _OrderedFileIO(2, "w", closefd=False)
        stderr_raw.before_write = stdout.flush
        stderr = io.TextIOWrapper(
            io.BufferedWriter(stderr_raw), encoding=encoding, line_buffering=True
        )
        sys.stdout, sys.stderr = stdout, stderr
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
        """Restore fds 1 and 2 and wait for the reader to copy what is left (once)."""
        if self._reader is None:
            return
        _flush_std_streams()
        sys.stdout, sys.stderr = self._saved_streams
        saved_out, saved_err = self._saved_fds
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        reader, self._reader = self._reader, None
        reader.join(self.join_timeout)
        if reader.is_alive():
            _log.warning(
                "output capture: a subprocess still holds the run's stdout; its later output "
                "is shown but not recorded"
            )
        else:
            os.close(saved_out)
        os.close(saved_err)


def _enlarge_pipe(fd: int) -> None:
    """Ask Linux for a 1 MiB pipe buffer (fewer wake-ups of the reader); ignored elsewhere."""
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if set_size is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, set_size, 1 << 20)


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
