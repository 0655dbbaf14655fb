"""Assembling a run's config from its sources, in a fixed order of precedence.

Lowest precedence first:

1. Each ingredient's config sources (``@config`` scopes and ``add_config`` dicts or files) in
   the order they were added: a later source can read and override earlier entries.
   Sub-ingredients are assembled first; their config lives under their path (at the root
   of the config, however deeply they are nested), and the parent's scopes can read it.
2. Config hooks (``@config_hook``): they see the config so far and return updates.
3. Named configs and config files given in ``with``, in the order given (later ones win).
   Their entries also win over assignments in the config scopes, whose other entries are
   computed from them.
4. ``with key=value`` updates: they win over everything.

The root config always has ``seed`` (random unless set).
"""

from __future__ import annotations

import copy
import logging
import random
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .paths import copy_nested, get_by_dotted_path, recursive_update, set_by_dotted_path
from .summary import ConfigSummary, mark_changes

if TYPE_CHECKING:
    from ..ingredient import Ingredient

SEED_MAX = 2**31 - 1
SEED_DOC = "the random seed for this experiment"


def subtree(tree: Mapping, prefix: str) -> dict:
    """The dict at dotted ``prefix`` in ``tree`` (``tree`` itself for ``""``; ``{}`` if absent)."""
    if not prefix:
        return dict(tree)
    found = get_by_dotted_path(tree, prefix, {})
    return dict(found) if isinstance(found, Mapping) else {}


def merge_at(tree: dict, prefix: str, values: Mapping) -> None:
    """Merge ``values`` into ``tree`` at dotted ``prefix`` (``values`` win)."""
    if not prefix:
        recursive_update(tree, values)
        return
    existing = get_by_dotted_path(tree, prefix)
    if isinstance(existing, dict):
        recursive_update(existing, values)
    else:
        set_by_dotted_path(tree, prefix, copy_nested(values))


def assemble_config(
    root: Ingredient,
    updates: Mapping,
    named_configs: Sequence[str] = (),
    command_name: str | None = None,
    logger: logging.Logger | None = None,
) -> ConfigSummary:
    """Build the config of a run of ``root`` (see the module docstring for the order).

    Args:
        root: the experiment (or ingredient) whose config to build.
        updates: nested ``with`` updates.
        named_configs: names of named configs (``path.name`` for an ingredient's) or paths
            of JSON/YAML files, in the order given.
        command_name: passed to config hooks.
        logger: passed to config hooks.

    Raises:
        ConfigError: an unknown named config, or a config file that cannot be read.
    """
    updates = copy.deepcopy(dict(updates))
    docs: dict[str, str] = {}
    named_values: dict[str, Any] = {}
    for name in named_configs:
        owner, source = root.find_named_config(name)
        prefix = root.prefix_of(owner)
        result = source.evaluate(subtree(updates, prefix), subtree(named_values, prefix))
        merge_at(named_values, prefix, result.values)
        docs.update(_prefixed(prefix, source.docs))
    fixed = recursive_update(copy.deepcopy(named_values), updates)

    config: dict[str, Any] = {}
    defined: dict[str, Any] = {}
    ingredients = list(root.traverse_ingredients())
    for ingredient in reversed(ingredients):
        prefix = root.prefix_of(ingredient)
        own = subtree(config, prefix)  # the config of deeper ingredients nested under prefix
        preset = {
            sub.path: subtree(config, sub.path)
            for sub in ingredient.ingredients
            if sub.path.isidentifier()
        }
        preset.update(own)
        values: dict[str, Any] = {}
        for source in ingredient.configurations:
            result = source.evaluate(subtree(fixed, prefix), {**preset, **values})
            recursive_update(values, result.values)
            merge_at(defined, prefix, result.defined)
            docs.update(_prefixed(prefix, source.docs))
        recursive_update(values, subtree(fixed, prefix))
        merge_at(config, prefix, recursive_update(values, own))

    seed = random.randint(0, SEED_MAX)
    config.setdefault("seed", seed)
    defined.setdefault("seed", seed)
    docs.setdefault("seed", SEED_DOC)
    hooked: dict[str, Any] = {}
    for ingredient in ingredients:
        for hook in ingredient.config_hooks:
            hook_updates = hook(copy.deepcopy(config), command_name, logger) or {}
            merge_at(hooked, root.prefix_of(ingredient), hook_updates)
    if hooked:
        recursive_update(config, hooked)
        recursive_update(config, fixed)
        defined = recursive_update(hooked, defined)
    _check_keys(config)
    _check_seed(config["seed"])
    summary = ConfigSummary(config=config, docs=docs, defined=defined)
    mark_changes(summary, fixed)
    return summary


def _check_keys(config: Mapping[str, Any], path: str = "") -> None:
    """Raise ConfigError for a key that is not a string (every store needs string keys)."""
    for key, value in config.items():
        if not isinstance(key, str):
            raise ConfigError(
                f"config key {key!r} ({type(key).__name__}) under {path or 'the root'} is not a "
                f"string; config keys must be strings, e.g. {str(key)!r}"
            )
        if isinstance(value, Mapping):
            _check_keys(value, f"{path}.{key}" if path else key)


def _check_seed(seed: Any) -> None:
    """Raise ConfigError unless ``seed`` is an integer (random generators need one)."""
    if isinstance(seed, bool) or not hasattr(seed, "__index__"):
        raise ConfigError(f"seed must be an integer, got {type(seed).__name__} {seed!r}")


def _prefixed(prefix: str, docs: Mapping[str, str]) -> dict[str, str]:
    return {f"{prefix}.{key}" if prefix else key: doc for key, doc in docs.items()}
