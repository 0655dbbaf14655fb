"""Capturing a run's stdout and stderr, interleaved into one text.

Modes:

* ``"no"``: nothing is captured.
* ``"sys"``: Python-level writes to ``sys.stdout`` / ``sys.stderr`` are copied.
* ``"fd"``: file descriptors 1 and 2 are redirected into two pipes that a reader thread
  copies to the original stdout and stderr and into the capture, so output of C code and
  subprocesses is included.

Either way the terminal keeps stdout and stderr apart (``2>err.log`` still gets stderr)
while the record holds both in the order they were written. :func:`uncaptured_stderr` is
the way around the capture for sacredlike's own messages about its observers.

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
import select
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
_running: list[OutputCapture] = []  # started and not yet stopped, outermost first


def uncaptured_stderr() -> TextIO:
    """The terminal's stderr past every running capture (for messages not to be recorded)."""
    return _running[0].uncaptured_stderr() if _running else sys.stderr


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

    def uncaptured_stderr(self) -> TextIO:
        """A stream to the stderr this capture found, which it does not record."""
        return sys.stderr

    def _started(self) -> None:
        _running.append(self)

    def _stopped(self) -> None:
        if self in _running:
            _running.remove(self)


class _RawTee(io.RawIOBase):
    """The bytes end of a capturing stream: decodes each write and hands both on.

    Python's own ``TextIOWrapper`` and ``BufferedWriter`` sit on top of it, so ``print``
    stays in C until a buffer fills (or a line ends on a terminal): one Python call per
    buffer instead of two per ``print``.
    """

    def __init__(self, encoding: str) -> None:
        super().__init__()
        self.encoding = encoding
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self.before_write: Any = None  # called first (stderr flushes stdout: keeps order)

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.before_write is not None:
            self.before_write()
        data = bytes(data)
        self._deliver(data, self._decoder.decode(data))
        return len(data)

    def _deliver(self, data: bytes, text: str) -> None:
        raise NotImplementedError


class _TeeRaw(_RawTee):
    """Under sys capture: echoes the text to the original stream and keeps a copy."""

    def __init__(self, original: TextIO, capture: OutputCapture, encoding: str) -> None:
        super().__init__(encoding)
        self._original = original
        self._keep = capture.write

    def _deliver(self, data: bytes, text: str) -> None:
        self._original.write(text)
        self._keep(text)

    def flush(self) -> None:
        self._original.flush()

    def isatty(self) -> bool:
        return self._original.isatty()

    def fileno(self) -> int:
        return self._original.fileno()


def _std_streams(out: _RawTee, err: _RawTee, out_is_terminal: bool) -> tuple[TextIO, TextIO]:
    """Text streams for ``sys.stdout`` and ``sys.stderr`` over the raw tees ``out`` and ``err``.

    Like Python's own, stdout is line-buffered only on a terminal (otherwise every print
    would be a call down here) and stderr always is; stderr flushes stdout before each
    write, so the record keeps the order in which lines were written to the two.
    """
    stdout = _text_stream(out, line_buffering=out_is_terminal)
    err.before_write = stdout.flush
    return stdout, _text_stream(err, line_buffering=True)


def _text_stream(raw: _RawTee, *, line_buffering: bool) -> TextIO:
    return io.TextIOWrapper(
        io.BufferedWriter(raw),
        encoding=raw.encoding,
        errors="backslashreplace",
        line_buffering=line_buffering,
    )


def _encoding(stream: TextIO) -> str:
    return getattr(stream, "encoding", None) or "utf-8"


class SysCapture(OutputCapture):
    """Copies Python-level writes to ``sys.stdout`` and ``sys.stderr``.

    stdout is line-buffered on a terminal and block-buffered otherwise (as Python does);
    stderr is line-buffered and flushes stdout before each write, so the captured text keeps
    the order in which lines were written to the two streams.
    """

    def start(self) -> None:
        """Replace ``sys.stdout``/``sys.stderr`` with capturing streams."""
        self._saved = (sys.stdout, sys.stderr)
        out = _TeeRaw(sys.stdout, self, _encoding(sys.stdout))
        err = _TeeRaw(sys.stderr, self, _encoding(sys.stderr))
        sys.stdout, sys.stderr = _std_streams(out, err, sys.stdout.isatty())
        self._started()

    def stop(self) -> None:
        """Flush and put the original streams back."""
        self.flush()
        sys.stdout, sys.stderr = self._saved
        self._stopped()

    def uncaptured_stderr(self) -> TextIO:
        """The ``sys.stderr`` replaced at start."""
        return self._saved[1]

    def flush(self) -> None:
        """Flush both streams."""
        for stream in (sys.stdout, sys.stderr):
            stream.flush()


class _FdTeeRaw(_RawTee):
    """Under fd capture: hands each write to the capture for terminal ``index`` (0 or 1)."""

    def __init__(self, capture: FdCapture, index: int, encoding: str) -> None:
        super().__init__(encoding)
        self._capture = capture
        self._index = index

    def _deliver(self, data: bytes, text: str) -> None:
        self._capture.record(self._index, data, text)

    def isatty(self) -> bool:
        return os.isatty(self._capture.terminals[self._index])

    def fileno(self) -> int:
        return self._index + 1


class FdCapture(OutputCapture):
    """Redirects file descriptors 1 and 2 into two pipes, so C code and subprocesses are seen.

    What arrives on fd 1 goes on to the original stdout and what arrives on fd 2 to the
    original stderr (``2>err.log`` keeps working); both are recorded, in one text. Writes
    to ``sys.stdout`` / ``sys.stderr`` do not pass through the pipes: they are copied to
    the original descriptors and recorded at once, after whatever the pipes hold by then,
    so lines written by Python keep their exact order, and a subprocess that has exited
    before the next ``print`` comes before it. Only output of two processes writing at the
    same moment is ordered by when the reader thread saw it.
    """

    join_timeout = 2.0  # a subprocess still holding a pipe must not hang the run's end
    drain_limit = 1 << 20  # most bytes taken from one pipe in one go
    _reader: threading.Thread | None = None

    def start(self) -> None:
        """Redirect fds 1 and 2, replace the Python streams and start the reader thread."""
        _flush_std_streams()
        self.terminals = (os.dup(1), os.dup(2))
        self._saved_streams = (sys.stdout, sys.stderr)
        encoding = _encoding(sys.stdout)
        self._lock = threading.RLock()  # a signal handler may print while a write holds it
        self._pipes: list[int | None] = []
        self._decoders = []
        for fd in (1, 2):
            read_end, write_end = os.pipe()
            _enlarge_pipe(write_end)
            os.set_blocking(read_end, False)
            os.dup2(write_end, fd)
            os.close(write_end)
            self._pipes.append(read_end)
            self._decoders.append(codecs.getincrementaldecoder(encoding)(errors="replace"))
        sys.stdout, sys.stderr = _std_streams(
            _FdTeeRaw(self, 0, encoding),
            _FdTeeRaw(self, 1, encoding),
            os.isatty(self.terminals[0]),
        )
        self._terminal_stderr = open(  # noqa: SIM115
            self.terminals[1],
            "w",
            encoding=encoding,
            errors="backslashreplace",
            closefd=False,
            buffering=1,
        )
        self._reader = threading.Thread(
            target=self._pump, name="sacredlike-fd-capture", daemon=True
        )
        self._reader.start()
        self._started()

    def uncaptured_stderr(self) -> TextIO:
        """A stream to the original fd 2, which is not recorded."""
        return self._terminal_stderr

    def record(self, index: int, data: bytes, text: str) -> None:
        """Show ``data`` on terminal ``index`` (0 stdout, 1 stderr) and record ``text``.

        What the pipes hold is taken first, so it keeps its place before ``data``.
        """
        with self._lock:
            self._drain()
            _write_all(self.terminals[index], data)
            self.write(text)

    def _drain(self) -> None:
        """Copy what the pipes hold now to the terminals and the record (lock held)."""
        for index, read_end in enumerate(self._pipes):
            if read_end is None:
                continue
            taken = 0
            while taken < self.drain_limit:
                try:
                    data = os.read(read_end, 65536)
                except BlockingIOError:
                    break
                if not data:  # every writer closed the pipe
                    self.write(self._decoders[index].decode(b"", final=True))
                    os.close(read_end)
                    self._pipes[index] = None
                    break
                taken += len(data)
                _write_all(self.terminals[index], data)
                self.write(self._decoders[index].decode(data))

    def _pump(self) -> None:
        poller = select.poll()
        watched = [read_end for read_end in self._pipes if read_end is not None]
        for read_end in watched:
            poller.register(read_end, select.POLLIN)
        while watched:
            poller.poll()
            with self._lock:
                self._drain()
            for read_end in [fd for fd in watched if fd not in self._pipes]:
                poller.unregister(read_end)  # closed by the drain: before its number is reused
                watched.remove(read_end)

    def flush(self) -> None:
        """Flush Python's buffers and take in what the pipes hold."""
        _flush_std_streams()
        if self._reader is not None:
            with self._lock:
                self._drain()

    def stop(self) -> None:
        """Restore fds 1 and 2 and wait for the reader to copy what is left (once)."""
        if self._reader is None:
            return
        _flush_std_streams()
        self._stopped()
        self._terminal_stderr.flush()
        sys.stdout, sys.stderr = self._saved_streams
        for fd, terminal in enumerate(self.terminals, start=1):
            os.dup2(terminal, fd)  # closes our write end of that pipe
        reader, self._reader = self._reader, None
        reader.join(self.join_timeout)
        if reader.is_alive():
            _log.warning(
                "output capture: a subprocess still holds the run's stdout or stderr; its "
                "later output is shown but not recorded"
            )
        else:
            for terminal in self.terminals:
                os.close(terminal)


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
        if not hasattr(select, "poll"):
            _log.warning("capture mode 'fd' needs select.poll (POSIX); using 'sys'")
            return SysCapture()
        try:
            os.fstat(1)
            os.fstat(2)
        except OSError:
            _log.warning("capture mode 'fd' unavailable (no stdout/stderr fd); using 'sys'")
            return SysCapture()
        return FdCapture()
    raise ConfigError(f"unknown capture mode {mode!r}; choose one of {', '.join(CAPTURE_MODES)}")
