"""What assembling a config produced, and which entries the updates added or changed."""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..suggest import did_you_mean
from .paths import get_by_dotted_path, iterate_flattened

_MISSING = object()


@dataclass
class ConfigSummary:
    """The result of assembling a run's config.

    Attributes:
        config: the final nested config (the root always has ``seed``).
        docs: ``{"dotted.key": doc}`` from comments in config scopes.
        added: dotted keys set by named configs or updates that no config source defines.
        modified: dotted keys whose value named configs or updates changed.
        typechanged: the subset of ``modified`` whose value changed type (int and float
            count as one type, so do list and tuple; None changes to anything).
        defined: the config as its sources define it, before named configs and updates.
    """

    config: dict[str, Any]
    docs: dict[str, str] = field(default_factory=dict)
    added: set[str] = field(default_factory=set)
    modified: set[str] = field(default_factory=set)
    typechanged: set[str] = field(default_factory=set)
    defined: dict[str, Any] = field(default_factory=dict)


def type_name(value: Any) -> str:
    """The kind of a config value, for type-change checks (``"number"`` for int and float)."""
    if value is None:
        return "None"
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, numbers.Real):
        return "float"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, Mapping):
        return "dict"
    return type(value).__name__


def type_changed(old: Any, new: Any) -> bool:
    """Whether replacing ``old`` by ``new`` changes the kind of value (None is compatible)."""
    kinds = {type_name(old), type_name(new)}
    if "None" in kinds or kinds == {"int", "float"}:
        return False
    return len(kinds) > 1


def mark_changes(summary: ConfigSummary, changes: Mapping) -> None:
    """Record in ``summary`` which leaves of ``changes`` add or modify defined entries."""
    for path, _ in iterate_flattened(changes):
        owner, old = _defined_value(summary.defined, path)
        if old is _MISSING:
            summary.added.add(path)
            continue
        new = get_by_dotted_path(changes, owner)
        if not _equal(old, new):
            summary.modified.add(owner)
            if type_changed(old, new):
                summary.typechanged.add(owner)


def _defined_value(defined: Mapping, path: str) -> tuple[str, Any]:
    """The defined entry at ``path``, or at the nearest parent that holds a non-dict value."""
    node: Any = defined
    parts = path.split(".")
    for depth, part in enumerate(parts):
        if not isinstance(node, Mapping):
            return ".".join(parts[:depth]), node
        if part not in node:
            return path, _MISSING
        node = node[part]
    return path, node


def _equal(old: Any, new: Any) -> bool:
    if isinstance(old, (list, tuple)) and isinstance(new, (list, tuple)):
        return len(old) == len(new) and all(map(_equal, old, new))
    try:
        return bool(old == new)
    except (ValueError, TypeError):  # numpy arrays compare element-wise
        return old is new


class UpdateProblem(NamedTuple):
    """One suspicious ``with`` update.

    Attributes:
        path: the dotted key concerned.
        message: what is wrong, naming the key and the closest existing key.
        added: the update adds a key (False: it changes an entry's type).
    """

    path: str
    message: str
    added: bool


def update_problems(
    summary: ConfigSummary, user_paths: Iterable[str], used_paths: Iterable[str]
) -> list[UpdateProblem]:
    """Messages for ``with`` updates that look like mistakes.

    An update is suspicious when it adds a key that no config source defines and no captured
    function takes as a parameter (``used_paths``; a parameter covers its sub-keys), or when
    it changes an entry's type.

    Args:
        summary: the assembled config with its change sets.
        user_paths: dotted keys the user set with ``with key=value``.
        used_paths: dotted config paths captured functions read.

    Returns:
        One :class:`UpdateProblem` per suspicious update.
    """
    used = set(used_paths)
    known = sorted({path for path, _ in iterate_flattened(summary.defined)} | used)
    problems = []
    for path in sorted(set(user_paths)):
        if path in summary.added and not _covered(path, used):
            message = (
                f"config key {path!r} is not defined by any config and no captured function "
                f"takes it as a parameter{did_you_mean(path, known)}"
            )
            problems.append(UpdateProblem(path, message, added=True))
        owner = next((p for p in _prefixes(path) if p in summary.typechanged), None)
        if owner is not None:
            _, old = _defined_value(summary.defined, owner)
            new = get_by_dotted_path(summary.config, owner)
            message = (
                f"config key {owner!r} changes type from {type_name(old)} ({old!r}) to "
                f"{type_name(new)} ({new!r})"
            )
            problems.append(UpdateProblem(owner, message, added=False))
    return problems


def _prefixes(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _covered(path: str, used: set[str]) -> bool:
    return any(prefix in used for prefix in _prefixes(path))
