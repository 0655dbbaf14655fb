"""One registry of sinks: URL schemes, command-line flags, classes and pip extras.

Built-in sinks are declared in one table, :data:`sacredlike.sink_table.BUILTIN_SINKS`, and
registered without importing their modules, so loading the registry stays cheap.
Third-party packages add theirs through the entry-point group ``sacredlike.sinks`` (an entry
point may name a module that calls :func:`register_sink`, or a :class:`Sink` object).

Classes are named as ``"module:Class"`` strings and imported on first use, after checking that
the sink's libraries are installed, so a missing driver becomes one clear
:class:`~sacredlike.errors.MissingExtra` error naming the extra to install.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from dataclasses import dataclass
from typing import Any

from .errors import MissingExtra, UnknownSink

ENTRY_POINT_GROUP = "sacredlike.sinks"


@dataclass(frozen=True)
class Sink:
    """A registered sink.

    Attributes:
        name: short name, e.g. ``"sql"``.
        family: the writer family (``"folder"``, ``"document"``, ``"rows"``) or another word
            for sinks outside them (``"notification"``).
        observer: ``"module:Class"`` of the observer; the class has a ``from_flag(value)``
            classmethod that builds it from the command-line flag's argument.
        reader: ``"module:Class"`` of its :class:`~sacredlike.observers.base.RunReader`
            (with a ``from_url(url)`` classmethod), or None.
        extra: pip extra that installs what the sink needs (``pip install "sacredlike[X]"``).
        requires: modules that must be importable for the sink to work.
        schemes: URL schemes this sink serves in :func:`open_store`.
        flag / short_flag: the experiment command-line options, e.g. ``--sql`` / ``-s``.
        metavar / help: how the flag is shown in ``--help``.
        exports: names :mod:`sacredlike.observers` loads lazily from the observer's module.
    """

    name: str
    observer: str
    reader: str | None = None
    extra: str | None = None
    requires: tuple[str, ...] = ()
    schemes: tuple[str, ...] = ()
    flag: str | None = None
    short_flag: str | None = None
    metavar: str = "URL"
    help: str = ""
    family: str = ""
    exports: tuple[str, ...] = ()

    @property
    def module(self) -> str:
        """The module holding the observer class."""
        return self.observer.partition(":")[0]

    @property
    def install_hint(self) -> str:
        """The pip command that installs what the sink needs."""
        return f'pip install "sacredlike[{self.extra or self.name}]"'

    def check_installed(self) -> None:
        """Raise :class:`MissingExtra` if a library this sink needs is not installed."""
        for module in self.requires:
            if importlib.util.find_spec(module) is None:
                raise MissingExtra(self.name, self.extra or self.name, module)

    def observer_class(self) -> type:
        """Import and return the observer class."""
        self.check_installed()
        return _import(self.observer)

    def reader_class(self) -> type:
        """Import and return the reader class (:class:`UnknownSink` if it has none)."""
        if self.reader is None:
            raise UnknownSink(f"the {self.name} sink has no reader")
        self.check_installed()
        return _import(self.reader)

    def observer_from_flag(self, value: str) -> Any:
        """Build the observer from its command-line argument."""
        return self.observer_class().from_flag(value)


_sinks: dict[str, Sink] = {}
_lock = threading.RLock()
_loaded = False


def register_sink(sink: Sink, *, clobber: bool = False) -> Sink:
    """Add ``sink`` to the registry and return it.

    Raises:
        ValueError: its name, a scheme or a flag is already taken (unless ``clobber``).
    """
    with _lock:
        if not clobber:
            for other in _sinks.values():
                if other.name == sink.name:
                    if other == sink:
                        return sink
                    raise ValueError(f"a sink named {sink.name!r} is already registered")
                taken = set(other.schemes) & set(sink.schemes)
                if taken:
                    raise ValueError(
                        f"scheme(s) {sorted(taken)} of sink {sink.name!r} already belong to "
                        f"sink {other.name!r}"
                    )
                flags = {other.flag, other.short_flag} - {None}
                if flags & {sink.flag, sink.short_flag}:
                    raise ValueError(
                        f"flag of sink {sink.name!r} already belongs to sink {other.name!r}"
                    )
        _sinks[sink.name] = sink
        return sink


def registered_sinks() -> list[Sink]:
    """All sinks: built-in ones, then those from entry points, in registration order."""
    _load_all()
    with _lock:
        return list(_sinks.values())


def sink_for_scheme(scheme: str) -> Sink:
    """The sink serving URL ``scheme``.

    Raises:
        UnknownSink: none does; the message lists the registered schemes.
    """
    sinks = registered_sinks()
    for sink in sinks:
        if scheme in sink.schemes:
            return sink
    known = sorted(s for sink in sinks for s in sink.schemes)
    raise UnknownSink(f"no sink handles URL scheme {scheme!r}; registered schemes: {known}")


def url_scheme(url: str) -> str:
    """The scheme of a store URL; plain paths (no ``scheme://``) are ``"file"``."""
    head, sep, _ = url.partition("://")
    if not sep:
        return "file"
    return head.split("+", 1)[0].lower()


def open_store(url: str) -> Any:
    """Open a :class:`~sacredlike.observers.base.RunReader` on the store at ``url``.

    ``url`` is a directory path, ``file://``, ``sqlite:///``, ``postgresql://``,
    ``mysql://``, ``mongodb://`` ... whatever the registered sinks serve.
    """
    return sink_for_scheme(url_scheme(url)).reader_class().from_url(url)


def open_observer(url: str) -> Any:
    """A new observer writing to the store at ``url`` (as its command-line flag builds it)."""
    return sink_for_scheme(url_scheme(url)).observer_from_flag(url)


def _import(target: str) -> Any:
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def _load_all() -> None:
    global _loaded
    with _lock:
        if _loaded:
            return
        _loaded = True
        from .sink_table import BUILTIN_SINKS

        for sink in BUILTIN_SINKS:
            register_sink(sink)
        from importlib.metadata import entry_points

        for entry in entry_points(group=ENTRY_POINT_GROUP):
            loaded = entry.load()
            if isinstance(loaded, Sink):
                register_sink(loaded)
