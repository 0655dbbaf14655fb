"""Ingredient: a reusable part of an experiment with its own config, commands and sources."""

from __future__ import annotations

import copy
import os
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .captured import CapturedFunction
from .config import (
    ConfigDict,
    ConfigScope,
    get_by_dotted_path,
    load_config_file,
    recursive_update,
    set_by_dotted_path,
)
from .dependencies import package_version
from .errors import ConfigError

SEED_MAX = 2**31 - 1


@dataclass
class ConfigSummary:
    """The result of assembling a run's config.

    Attributes:
        config: the final nested config (the root always has ``seed``).
        docs: ``{"dotted.key": doc}`` from comments in config scopes.
    """

    config: dict[str, Any]
    docs: dict[str, str] = field(default_factory=dict)


class Ingredient:
    """A named part of an experiment: config under ``path.``, captured functions, commands.

    Args:
        path: the ingredient's name; its config lives under this key of the experiment's config.
        ingredients: sub-ingredients.
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

    def gather_config(
        self,
        config_updates: Mapping | None = None,
        named_configs: list[str] | tuple[str, ...] = (),
        command_name: str | None = None,
        logger: Any = None,
    ) -> ConfigSummary:
        """Assemble the config: sources in order, named configs, then updates (which win).

        Order of precedence, lowest first: ``@config`` scopes and ``add_config`` entries in
        the order they were added, then named configs in the order given, then
        ``config_updates``. Sub-ingredients' configs live under their ``path``. The root gets
        a random ``seed`` unless one is set.

        Raises:
            ConfigError: an unknown named config.
        """
        updates = copy.deepcopy(dict(config_updates or {}))
        config: dict[str, Any] = {}
        docs: dict[str, str] = {}
        wanted_named = list(named_configs)
        for ingredient in reversed(list(self.traverse_ingredients())):
            prefix = "" if ingredient is self else ingredient.path
            fixed = get_by_dotted_path(updates, prefix, {}) if prefix else updates
            own_named = [
                name[len(prefix) + 1 :] if prefix else name
                for name in wanted_named
                if (name.startswith(prefix + ".") if prefix else "." not in name)
                or (ingredient is self and name in self.named_configs)
            ]
            values, own_docs = ingredient._own_config(fixed, own_named)
            for key, doc in own_docs.items():
                docs[f"{prefix}.{key}" if prefix else key] = doc
            if prefix:
                existing = get_by_dotted_path(config, prefix, {})
                set_by_dotted_path(config, prefix, recursive_update(values, existing))
            else:
                config = recursive_update(values, config)
        known_named = self._all_named_configs()
        unknown = [name for name in wanted_named if name not in known_named]
        if unknown:
            raise ConfigError(
                f"unknown named config {unknown[0]!r}; available: "
                f"{', '.join(sorted(known_named)) or 'none'}"
            )
        config.setdefault("seed", random.randint(0, SEED_MAX))
        for hook in self.config_hooks:
            recursive_update(config, hook(config, command_name, logger) or {})
        return ConfigSummary(config=config, docs=docs)

    def _own_config(self, fixed: Mapping, named: list[str]) -> tuple[dict, dict[str, str]]:
        fixed = copy.deepcopy(dict(fixed))
        docs: dict[str, str] = {}
        for name in named:
            if name in self.named_configs:
                named_values = self.named_configs[name](fixed=fixed)
                fixed = recursive_update(named_values, fixed)
        values: dict[str, Any] = {}
        for source in self.configurations:
            recursive_update(values, source(fixed=fixed, preset=values))
            docs.update(source.docs)
        return recursive_update(values, fixed), docs

    def _all_named_configs(self) -> set[str]:
        names = set()
        for ingredient in self.traverse_ingredients():
            prefix = "" if ingredient is self else ingredient.path + "."
            names.update(prefix + name for name in ingredient.named_configs)
        return names
