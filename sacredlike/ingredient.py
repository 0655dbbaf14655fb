"""Ingredient: a reusable part of an experiment with its own config, commands and sources."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .captured_function import CapturedFunction
from .config import ConfigDict, ConfigScope, load_config_file
from .config.assembly import assemble_config
from .config.files import is_config_file_name
from .config.summary import ConfigSummary
from .dependencies import package_version
from .errors import CommandLineError, ConfigError
from .suggest import unknown_name

__all__ = ["ConfigSummary", "Ingredient", "check_command"]


class Ingredient:
    """A named part of an experiment: config under ``path.``, captured functions, commands.

    Args:
        path: the ingredient's name; its config lives under this key of the experiment's config.
        ingredients: sub-ingredients.
        interactive: allow use from an interactive session (accepted for compatibility).
        base_dir: directory whose imported modules count as sources (default: the main
            file's directory).
        save_git_info: record git commit, dirty flag and remote of the sources.
    """

    def __init__(
        self,
        path: str,
        ingredients: tuple[Ingredient, ...] | list[Ingredient] = (),
        interactive: bool = False,
        base_dir: str | os.PathLike[str] | None = None,
        save_git_info: bool = True,
        *,
        _mainfile: str | None = None,
    ) -> None:
        self.path = path
        self.ingredients = list(ingredients)
        self.interactive = interactive
        self.mainfile = _mainfile
        if base_dir is None:
            base_dir = Path(_mainfile).parent if _mainfile else Path.cwd()
        self.base_dir = Path(base_dir).resolve()
        self.save_git_info = save_git_info
        self.configurations: list[ConfigScope | ConfigDict] = []
        self.named_configs: dict[str, ConfigScope | ConfigDict] = {}
        self.captured_functions: list[CapturedFunction] = []
        self.commands: dict[str, CapturedFunction] = {}
        self.unobserved_commands: set[str] = set()
        self.pre_run_hooks: list[CapturedFunction] = []
        self.post_run_hooks: list[CapturedFunction] = []
        self.config_hooks: list[Callable[..., Any]] = []
        self.sources: set[Path] = set()
        self.dependencies: set[str] = set()

    # -- decorators ------------------------------------------------------------------------
    def config(self, function: Callable[[], Any]) -> ConfigScope:
        """Decorator: the function's body locals become config entries."""
        scope = ConfigScope(function)
        self.configurations.append(scope)
        return scope

    def named_config(self, function: Callable[[], Any]) -> ConfigScope:
        """Decorator: a config scope applied only when named on the command line."""
        scope = ConfigScope(function)
        self.named_configs[function.__name__] = scope
        return scope

    def add_config(
        self, cfg_or_file: Mapping | str | os.PathLike[str] | None = None, **kw_conf: Any
    ) -> None:
        """Add config entries from a dict, a JSON/YAML file path, or keyword arguments."""
        self.configurations.append(self._config_source(cfg_or_file, kw_conf))

    def add_named_config(
        self,
        name: str,
        cfg_or_file: Mapping | str | os.PathLike[str] | None = None,
        **kw_conf: Any,
    ) -> None:
        """Add a named config from a dict, a JSON/YAML file path, or keyword arguments."""
        self.named_configs[name] = self._config_source(cfg_or_file, kw_conf)

    @staticmethod
    def _config_source(cfg_or_file: Any, kw_conf: dict[str, Any]) -> ConfigDict:
        if cfg_or_file is not None and kw_conf:
            raise ConfigError(
                "pass either a dict/file or keyword arguments to add_config, not both"
            )
        if cfg_or_file is None:
            return ConfigDict(kw_conf)
        if isinstance(cfg_or_file, (str, os.PathLike)):
            return ConfigDict(load_config_file(cfg_or_file))
        return ConfigDict(cfg_or_file)

    def capture(self, function: Callable[..., Any] | None = None, prefix: str | None = None) -> Any:
        """Decorator: missing arguments of ``function`` are taken from the config."""
        if function is None:
            return lambda f: self.capture(f, prefix=prefix)
        if isinstance(function, CapturedFunction):
            return function
        captured = CapturedFunction(function, prefix=prefix)
        self.captured_functions.append(captured)
        return captured

    def command(self, function: Callable[..., Any] | None = None, unobserved: bool = False) -> Any:
        """Decorator: make ``function`` a command, run with ``python exp.py NAME``."""
        if function is None:
            return lambda f: self.command(f, unobserved=unobserved)
        captured = self.capture(function)
        self.commands[captured.__name__] = captured
        if unobserved:
            self.unobserved_commands.add(captured.__name__)
        return captured

    def pre_run_hook(self, function: Callable[..., Any]) -> CapturedFunction:
        """Decorator: a captured function called before the main function."""
        captured = self.capture(function)
        self.pre_run_hooks.append(captured)
        return captured

    def post_run_hook(self, function: Callable[..., Any]) -> CapturedFunction:
        """Decorator: a captured function called after the main function returned."""
        captured = self.capture(function)
        self.post_run_hooks.append(captured)
        return captured

    def config_hook(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator: ``function(config, command_name, logger)`` returns config updates."""
        self.config_hooks.append(function)
        return function

    def add_source_file(self, filename: str | os.PathLike[str]) -> None:
        """Record an extra source file with every run."""
        path = Path(filename)
        if not path.is_file():
            raise FileNotFoundError(f"add_source_file: no such file: {os.fspath(filename)!r}")
        self.sources.add(path.resolve())

    def add_package_dependency(self, package_name: str, version: str | None = None) -> None:
        """Record a package (and its version, looked up if omitted) with every run."""
        self.dependencies.add(
            f"{package_name}=={version}" if version else package_version(package_name)
        )

    # -- traversal and config --------------------------------------------------------------
    def traverse_ingredients(self) -> Iterator[Ingredient]:
        """This ingredient and all sub-ingredients, depth first, each once."""
        seen: set[int] = set()
        stack: list[Ingredient] = [self]
        while stack:
            ingredient = stack.pop()
            if id(ingredient) in seen:
                continue
            seen.add(id(ingredient))
            yield ingredient
            stack.extend(reversed(ingredient.ingredients))

    def prefix_of(self, ingredient: Ingredient) -> str:
        """Where ``ingredient``'s config lives in this one's config (``""`` for itself)."""
        return "" if ingredient is self else ingredient.path

    def gather_config(
        self,
        config_updates: Mapping | None = None,
        named_configs: Sequence[str] = (),
        command_name: str | None = None,
        logger: logging.Logger | None = None,
    ) -> ConfigSummary:
        """Assemble the config (order of precedence: see :mod:`sacredlike.config.assembly`).

        Args:
            config_updates: nested ``with`` updates; they win over all other sources.
            named_configs: named configs (``path.name`` for an ingredient's) or JSON/YAML
                file paths, applied in order.
            command_name: passed to config hooks.
            logger: passed to config hooks.

        Raises:
            ConfigError: an unknown named config or an unreadable config file.
        """
        return assemble_config(self, config_updates or {}, named_configs, command_name, logger)

    def _by_full_name(self, attribute: str) -> dict[str, tuple[Ingredient, Any]]:
        found: dict[str, tuple[Ingredient, Any]] = {}
        for ingredient in self.traverse_ingredients():
            prefix = self.prefix_of(ingredient)
            for name, item in getattr(ingredient, attribute).items():
                found.setdefault(f"{prefix}.{name}" if prefix else name, (ingredient, item))
        return found

    def named_config_sources(self) -> dict[str, tuple[Ingredient, ConfigScope | ConfigDict]]:
        """Every named config by full name (``path.name`` for sub-ingredients')."""
        return self._by_full_name("named_configs")

    def find_named_config(self, name: str) -> tuple[Ingredient, ConfigScope | ConfigDict]:
        """The ingredient owning named config ``name`` and the config source.

        ``name`` may also be the path of a JSON or YAML file (applied to the root config).

        Raises:
            ConfigError: no such named config, or the file cannot be read.
        """
        known = self.named_config_sources()
        if name in known:
            return known[name]
        if is_config_file_name(name):
            return self, ConfigDict(load_config_file(name), doc=f"loaded from {name}")
        raise ConfigError(
            unknown_name("named config", name, known)
            + " (config files must end in .json, .yaml or .yml)"
        )

    def gather_commands(self) -> dict[str, CapturedFunction]:
        """Every command by full name (``path.command`` for sub-ingredients')."""
        return {name: command for name, (_, command) in self._by_full_name("commands").items()}

    def unobserved_command_names(self) -> set[str]:
        """Full names of the commands marked ``unobserved``."""
        return {
            name
            for name, (ingredient, command) in self._by_full_name("commands").items()
            if command.__name__ in ingredient.unobserved_commands
        }

    def bind_captured_functions(self) -> list[CapturedFunction]:
        """All captured functions, each told where its ingredient's config lives."""
        functions = []
        for ingredient in self.traverse_ingredients():
            for function in ingredient.captured_functions:
                function.ingredient_path = self.prefix_of(ingredient)
                functions.append(function)
        return functions


def check_command(name: str, commands: Iterable[str]) -> None:
    """Raise :class:`CommandLineError` naming the closest command if ``name`` is unknown."""
    commands = list(commands)
    if name not in commands:
        raise CommandLineError(unknown_name("command", name, commands))
