"""Captured functions: missing arguments are filled from the run's config."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .config.paths import get_by_dotted_path

if TYPE_CHECKING:
    from .run import Run

SPECIAL_ARGUMENTS = ("_run", "_config", "_log", "_seed", "_rnd")


class CapturedFunction:
    """Wraps ``function`` so that arguments the caller leaves out come from the config.

    For each missing parameter, in order: the special names ``_run``, ``_config``, ``_log``,
    ``_seed``, ``_rnd``; then the config entry of the same name (under ``prefix`` when given).
    Explicitly passed arguments always win. Functions of an ingredient read the config under
    the ingredient's path (:attr:`ingredient_path`, set when a run is created); ``_config``
    is the config they read from.

    Args:
        function: the user's function.
        prefix: dotted config path whose entries are offered (e.g. ``"dataset"``).
    """

    def __init__(self, function: Callable[..., Any], prefix: str | None = None) -> None:
        functools.update_wrapper(self, function)
        self.function = function
        self.prefix = prefix
        self.ingredient_path = ""
        self.signature = inspect.signature(function)
        named = [
            parameter
            for parameter in self.signature.parameters.values()
            if parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
        ]
        self._names = [parameter.name for parameter in named]
        self._fillable = [p.name for p in named if p.kind is not p.POSITIONAL_ONLY]
        self._required = [p.name for p in named if p.default is p.empty]
        self.run: Run | None = None
        self.config: dict = {}
        self.logger: logging.Logger | None = None

    def bind_run(self, run: Run | None, config: dict) -> None:
        """Give the function the config of ``run`` (None: outside a run)."""
        self.run = run
        self.config = config
        self.logger = None if run is None else run.run_logger.getChild(self.__name__)

    @property
    def config_path(self) -> str:
        """The dotted path of the config entries this function reads (``""``: the root)."""
        return ".".join(part for part in (self.ingredient_path, self.prefix) if part)

    def parameter_paths(self) -> list[str]:
        """Dotted config paths of the parameters that can come from the config."""
        base = self.config_path
        return [
            f"{base}.{name}" if base else name
            for name in self._names
            if name not in SPECIAL_ARGUMENTS
        ]

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        return self if instance is None else functools.partial(self, instance)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        bound = self.signature.bind_partial(*args, **kwargs)
        path = self.config_path
        scope = get_by_dotted_path(self.config, path, {}) if path else self.config
        for name in self._fillable:
            if name in bound.arguments:
                continue
            if name in SPECIAL_ARGUMENTS:
                if self.run is not None:
                    bound.arguments[name] = scope if name == "_config" else self._special(name)
            elif isinstance(scope, dict) and name in scope:
                bound.arguments[name] = scope[name]
        missing = [name for name in self._required if name not in bound.arguments]
        if missing:
            where = f" under {path!r}" if path else ""
            raise TypeError(
                f"{self.__name__}() is missing {', '.join(map(repr, missing))}: not passed and "
                f"not in the config{where}"
            )
        return self.function(*bound.args, **bound.kwargs)

    def _special(self, name: str) -> Any:
        run = self.run
        assert run is not None
        if name == "_run":
            return run
        if name == "_log":
            return self.logger
        seed = run.next_seed()
        if name == "_seed":
            return seed
        return run.random_state(seed)
