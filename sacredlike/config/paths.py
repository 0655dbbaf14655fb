"""Dotted-path access and recursive merging of nested config dicts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def set_by_dotted_path(target: dict, path: str, value: Any) -> None:
    """Set ``target["a"]["b"] = value`` for ``path="a.b"``, creating dicts on the way."""
    *parents, last = path.split(".")
    node = target
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[last] = value


def get_by_dotted_path(source: Mapping, path: str, default: Any = None) -> Any:
    """The value at ``path="a.b"`` in nested mappings, or ``default``."""
    node: Any = source
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return default
        node = node[part]
    return node


def recursive_update(target: dict, updates: Mapping) -> dict:
    """Merge ``updates`` into ``target`` in place: nested dicts merge, other values replace."""
    for key, value in updates.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            recursive_update(target[key], value)
        else:
            target[key] = copy_nested(value)
    return target


def copy_nested(value: Any) -> Any:
    """``value`` with every nested mapping copied into a new dict (other values are shared)."""
    if isinstance(value, Mapping):
        return {k: copy_nested(v) for k, v in value.items()}
    return value


def iterate_flattened(config: Mapping, prefix: str = "") -> list[tuple[str, Any]]:
    """``[("a.b", value), ...]`` for every leaf of a nested config (empty dicts are leaves)."""
    items: list[tuple[str, Any]] = []
    for key, value in config.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            items.extend(iterate_flattened(value, path + "."))
        else:
            items.append((path, value))
    return items
