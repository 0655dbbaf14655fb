"""Run: one execution of an experiment's command, and the status machine around it."""

from __future__ import annotations

import datetime as _dt
import logging
import mimetypes
import os
import random
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import IO, Any

from .captured_function import CapturedFunction
from .config.assembly import SEED_MAX
from .dispatch import Dispatcher
from .errors import ObserverError, SacredInterrupt
from .flush import MetricsFlush
from .heartbeat import Heartbeat
from .lease import lease_until, utcnow
from .metrics_logger import MetricsLogger
from .output_capture import make_capture
from .settings import SETTINGS
from .status import RunStatus

METRICS_BATCH_SIZE = 100_000
"""At most this many metric points per ``log_metrics`` call (bounds memory at each beat)."""


class SigTermInterrupt(SacredInterrupt):
    """Raised in the main thread when the process receives SIGTERM (or SIGHUP) during a run."""

    STATUS = "INTERRUPTED"


class SigHupInterrupt(SigTermInterrupt):
    """Raised in the main thread when the process receives SIGHUP (its terminal went away)."""


INTERRUPT_SIGNALS: dict[str, type[BaseException]] = {
    "SIGTERM": SigTermInterrupt,
    "SIGINT": KeyboardInterrupt,
    "SIGHUP": SigHupInterrupt,
}
"""The signals that end a run as INTERRUPTED, and what each raises in the main thread."""


def check_artifact_name(name: str) -> str:
    """Return ``name`` as a clean relative POSIX path, or raise ``ValueError`` saying why."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"artifact name must be a non-empty string, got {name!r}")
    unified = name.replace("\\", "/")
    path = PurePosixPath(unified)
    if path.is_absolute() or (len(unified) > 1 and unified[1] == ":"):
        raise ValueError(f"artifact name {name!r} is absolute; use a name relative to the run")
    if ".." in path.parts:
        raise ValueError(f"artifact name {name!r} leaves the run's folder ('..' is not allowed)")
    clean = path.as_posix()
    from .observers.folder.writer import RESERVED_NAMES  # the folder family owns them

    if clean in RESERVED_NAMES:
        raise ValueError(
            f"artifact name {name!r} is reserved for the run's own records; choose another name"
        )
    return clean


class Run:
    """One run of a command. Created by :meth:`Experiment.run`, not by users.

    Attributes follow Sacred: ``_id, config, info, status, result, start_time, stop_time,
    captured_out, observers, meta_info, experiment_info, host_info, beat_interval,
    capture_mode, fail_trace, config_modifications`` (the config's
    :class:`~sacredlike.config.summary.ConfigSummary`: ``added``, ``modified``,
    ``typechanged``, ``docs``), ``pre_run_hooks, post_run_hooks, run_logger, root_logger``.
    ``log_scalar(name, value, step=None)`` is the metrics logger's own method (bound at
    creation, so a training loop pays one call). A run can be started only once.
    """

    def __init__(
        self,
        *,
        config: dict,
        main_function: Callable[..., Any],
        observers: Sequence[Any],
        run_logger: logging.Logger,
        experiment_info: dict,
        host_info: dict,
        meta_info: dict,
        captured_functions: Iterable[CapturedFunction] = (),
        pre_run_hooks: Iterable[Callable[[], Any]] = (),
        post_run_hooks: Iterable[Callable[[], Any]] = (),
        captured_out_filter: Callable[[str], str] | None = None,
        config_modifications: Any = None,
    ) -> None:
        self._id: Any = None
        self.config = config
        self.main_function = main_function
        self.observers = list(observers)
        self.run_logger = run_logger
        self.root_logger = logging.getLogger()
        self.config_modifications = config_modifications
        self.experiment_info = experiment_info
        self.host_info = host_info
        self.meta_info = meta_info
        self.info: dict[str, Any] = {}
        self.status: str = RunStatus.QUEUED.value
        self.result: Any = None
        self.start_time: _dt.datetime | None = None
        self.stop_time: _dt.datetime | None = None
        self.captured_out: str = ""
        self.fail_trace: list[str] | None = None
        self.beat_interval: float = 10.0
        self.capture_mode: str = SETTINGS.CAPTURE_MODE
        self.captured_out_filter = captured_out_filter
        self.queue_only = False
        self.strict_observers = False  # an observer failure fails the run (--strict-observers)
        self.unobserved = False
        self.debug = False  # -d given: errors are re-raised (user code may read these two)
        self.pdb = False  # -D given: the post-mortem debugger opens on an error
        self._captured_functions = list(captured_functions)
        self.pre_run_hooks = list(pre_run_hooks)
        self.post_run_hooks = list(post_run_hooks)
        self._metrics = MetricsLogger()
        self.log_scalar = self._metrics.log_scalar
        self._flush = MetricsFlush(self._metrics.pending)
        self._rng = random.Random(config.get("seed"))
        self._dispatcher: Dispatcher | None = None
        self._capture = make_capture("no")
        self._captured_size = 0

    # -- used by user code ---------------------------------------------------------------
    def add_artifact(
        self,
        filename: str | os.PathLike[str],
        name: str | None = None,
        metadata: dict | None = None,
        content_type: str | None = None,
    ) -> None:
        """Store the file ``filename`` with the run as artifact ``name`` (default: its basename).

        Raises:
            FileNotFoundError: the file does not exist.
            ValueError: the name is absolute, leaves the run folder or is a reserved name.
        """
        path = Path(filename)
        if not path.is_file():
            raise FileNotFoundError(f"add_artifact: no such file: {os.fspath(filename)!r}")
        name = check_artifact_name(path.name if name is None else name)
        if content_type is None:
            content_type = mimetypes.guess_type(name)[0]
        self._emit(
            "artifact_event",
            name=name,
            filename=str(path.resolve()),
            metadata=metadata,
            content_type=content_type,
        )

    def add_resource(self, filename: str | os.PathLike[str]) -> None:
        """Record that the run used the file ``filename`` (stored once per content)."""
        path = Path(filename)
        if not path.is_file():
            raise FileNotFoundError(f"add_resource: no such file: {os.fspath(filename)!r}")
        self._emit("resource_event", filename=str(path.resolve()))

    def open_resource(self, filename: str | os.PathLike[str], mode: str = "r") -> IO[Any]:
        """Open ``filename`` for reading and record it as a resource."""
        self.add_resource(filename)
        return open(filename, mode)

    def next_seed(self) -> int:
        """A fresh seed derived from the run's root seed (``_seed`` of captured functions)."""
        return self._rng.randint(0, SEED_MAX)

    def random_state(self, seed: int) -> Any:
        """``_rnd``: a numpy RandomState if numpy is imported, else ``random.Random``."""
        numpy = sys.modules.get("numpy")
        if numpy is not None:
            return numpy.random.RandomState(seed)
        return random.Random(seed)

    # -- lifecycle -----------------------------------------------------------------------
    def __call__(self, *args: Any) -> Any:
        """Execute the run: start observers, run main, end with the right status.

        Raises:
            RuntimeError: the run was started (or queued) before.
        """
        if self._dispatcher is not None:
            raise RuntimeError(
                f"run {self._id!r} was already started; a Run can be started only once "
                "(call ex.run() again for a new run)"
            )
        self._dispatcher = Dispatcher(
            [] if self.unobserved else self.observers,
            raise_errors=SETTINGS.OBSERVER_ERRORS == "raise" or self.strict_observers,
        )
        if self.queue_only:
            queue_time = utcnow()
            self.meta_info["queue_time"] = queue_time  # Sacred's observers read it from meta
            self._id = self._dispatcher.start(
                "queued", self._id, queue_time=queue_time, **self._start_arguments()
            )
            self.status = RunStatus.QUEUED.value
            return None
        self._seed_global_generators()
        self._capture = make_capture(self.capture_mode)
        self._capture.start()
        try:
            self.start_time = utcnow()
            self._id = self._dispatcher.start(
                "started", self._id, start_time=self.start_time, **self._start_arguments()
            )
        except BaseException:
            self._capture.stop()
            raise
        self.status = RunStatus.RUNNING.value
        if self._id is not None:
            self.run_logger.info("Started run with ID %r", self._id)
        for function in self._captured_functions:
            function.bind_run(self, self.config)
        heartbeat = Heartbeat(self._beat, self.beat_interval, tick=self._metrics.collect)
        heartbeat.start()
        signals = _SignalGuard(on_first=self._flush.stop)
        outcome: BaseException | None = None
        try:
            for hook in self.pre_run_hooks:
                hook()
            self.result = self.main_function(*args)
            for hook in self.post_run_hooks:
                hook()
        except BaseException as error:
            outcome = error
        # a signal from now on stops the metric upload and waits until the run is stored
        signals.defer()
        try:
            try:
                self._end(heartbeat)
                self._dispatcher.raise_deferred()
            except ObserverError as error:  # strict observers: the final beat failed
                outcome = outcome or error
            if outcome is None:  # main returned, but a signal came before the end was sent
                outcome = signals.take()
            self._report(outcome)
        finally:
            signals.restore()
            for function in self._captured_functions:
                function.bind_run(None, {})
        if outcome is not None:
            raise outcome
        return self.result

    def _report(self, outcome: BaseException | None) -> None:
        """Set the final status and send the terminal event for ``outcome``."""
        assert self._dispatcher is not None and self.start_time and self.stop_time
        if outcome is None:
            self.status = RunStatus.COMPLETED.value
            self.run_logger.info(
                "Completed run %r after %s", self._id, self.stop_time - self.start_time
            )
            self._dispatcher.finish("completed_event", stop_time=self.stop_time, result=self.result)
        elif isinstance(outcome, (KeyboardInterrupt, SacredInterrupt)):
            self.status = str(getattr(outcome, "STATUS", RunStatus.INTERRUPTED.value))
            self.run_logger.warning("Run %r interrupted (%s)", self._id, self.status)
            self._dispatcher.finish(
                "interrupted_event", interrupt_time=self.stop_time, status=self.status
            )
        else:
            self.status = RunStatus.FAILED.value
            self.fail_trace = traceback.format_exception(outcome)
            self.run_logger.error("Run %r failed: %s", self._id, outcome)
            self._dispatcher.finish(
                "failed_event", fail_time=self.stop_time, fail_trace=self.fail_trace
            )

    def _start_arguments(self) -> dict[str, Any]:
        return {
            "ex_info": self.experiment_info,
            "command": self.meta_info.get("command")
            or getattr(self.main_function, "__name__", "main"),
            "host_info": self.host_info,
            "config": self.config,
            "meta_info": self.meta_info,
        }

    def _end(self, heartbeat: Heartbeat) -> None:
        """Stop capture and beats, then deliver the final beat (idempotent)."""
        if self.stop_time is not None:
            return
        self._capture.stop()
        self._flush.begin(self._id, sys.stderr)  # the user's stderr again
        try:
            heartbeat.stop()
            self.stop_time = utcnow()
            self._beat()
        finally:
            self._flush.end()

    def _beat(self) -> None:
        self._capture.flush()
        size = self._capture.size()
        if size != self._captured_size:  # copy the output only when something was added
            self._captured_size = size
            text = self._capture.text()
            if self.captured_out_filter is not None and text:
                text = self.captured_out_filter(text)
            self.captured_out = text
        assert self._dispatcher is not None
        now = utcnow()
        self._dispatcher.beat(
            self._flush.batches(self._metrics.drain(METRICS_BATCH_SIZE)),
            self.info,
            self.captured_out,
            now,
            self.result,
            lease_until(now, self.beat_interval),
        )

    def _emit(self, method: str, **kwargs: Any) -> None:
        if self._dispatcher is None or self.stop_time is not None or self.start_time is None:
            raise RuntimeError(
                f"{method.split('_')[0]}s can only be added while the run is running"
            )
        self._dispatcher.event(method, **kwargs)

    def _seed_global_generators(self) -> None:
        seed = self.config.get("seed")
        if seed is None:
            return
        random.seed(seed)
        numpy = sys.modules.get("numpy")
        if numpy is not None:
            numpy.random.seed(seed % 2**32)
        torch = sys.modules.get("torch")
        if torch is not None and hasattr(torch, "manual_seed"):
            torch.manual_seed(seed)


class _SignalGuard:
    """Turns SIGTERM, SIGINT and SIGHUP into exceptions while main runs (main thread only).

    The exception ends the run as INTERRUPTED. Once main has ended, :meth:`defer` makes those
    signals wait (a second Ctrl-C cannot cut the final writes short), and the first one calls
    ``on_first`` (the run stops its metric upload). :meth:`take` turns it into the run's
    interrupt; otherwise :meth:`restore` puts the previous handlers back and delivers it,
    after the run is stored. A signal the process ignores (``nohup``, ``SIG_IGN``) stays
    ignored.
    """

    def __init__(self, on_first: Callable[[], None]) -> None:
        self._previous: dict[signal.Signals, Any] = {}
        self._received: signal.Signals | None = None
        self._taken = False
        self._on_first = on_first
        if threading.current_thread() is not threading.main_thread():
            return
        for name in INTERRUPT_SIGNALS:
            number = getattr(signal, name, None)
            if number is None or signal.getsignal(number) is signal.SIG_IGN:
                continue
            self._previous[number] = signal.signal(number, self._interrupt)

    @staticmethod
    def _interruption(signum: int) -> BaseException:
        name = signal.Signals(signum).name
        return INTERRUPT_SIGNALS[name](f"received {name}")

    @classmethod
    def _interrupt(cls, signum: int, frame: Any) -> None:
        raise cls._interruption(signum)

    def _remember(self, signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if self._received is None:
            self._received = signal.Signals(signum)
            self._on_first()
            logging.getLogger(__name__).warning(
                "%s received; finishing the run record first, without the metric points not "
                "stored yet (further signals wait too)",
                name,
            )
        else:
            logging.getLogger(__name__).warning(
                "%s received again; still finishing the run record (it is not cut short)", name
            )

    def defer(self) -> None:
        """From now on, remember the signals instead of raising."""
        for number in self._previous:
            signal.signal(number, self._remember)

    def take(self) -> BaseException | None:
        """The interrupt for the signal received while deferred, which then is not delivered
        again (None if none came)."""
        if self._received is None:
            return None
        self._taken = True
        return self._interruption(self._received)

    def restore(self) -> None:
        """Put the previous handlers back; deliver a signal that arrived while deferred."""
        for number, previous in self._previous.items():
            # a handler installed from C code reads back as None: the default is all we can do
            signal.signal(number, previous if previous is not None else signal.SIG_DFL)
        if self._received is not None and not self._taken:
            signal.raise_signal(self._received)
