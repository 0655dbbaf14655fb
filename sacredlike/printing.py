"""Text shown by the built-in commands: the config tree, dependencies, named configs.

Highlighting uses ANSI colours only when asked to (see :func:`use_color`); otherwise a
one-character marker in front of the line says what happened to the entry.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import IO, Any

from .config.summary import ConfigSummary

_RESET = "\x1b[0m"
_DOC_COLOR = "\x1b[2;3m"
# change kind -> (marker without colour, ANSI colour, legend word), strongest first
_CHANGES = (
    ("typechanged", "!", "\x1b[31m", "type changed"),
    ("added", "+", "\x1b[32m", "added"),
    ("modified", "*", "\x1b[34m", "modified"),
)
_DOC_COLUMN_MAX = 40


def use_color(stream: IO[str]) -> bool:
    """Colours for ``stream``: only on a terminal, and not when ``NO_COLOR`` is set."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


def format_config(summary: ConfigSummary, color: bool = False) -> str:
    """The config as an indented tree, ``key = value  # doc``, changes highlighted.

    Args:
        summary: the assembled config, its docs and change sets.
        color: use ANSI colours (for a terminal) instead of markers.
    """
    lines: list[tuple[str, str]] = []  # (dotted path, "  key = value")
    _collect(summary.config, "", 1, lines)
    documented = [text for path, text in lines if summary.docs.get(path)]
    width = min(max(map(len, documented), default=0), _DOC_COLUMN_MAX)
    if color:
        legend = ", ".join(f"{code}{word}{_RESET}" for _, _, code, word in _CHANGES)
        legend += f", {_DOC_COLOR}# doc{_RESET}"
    else:
        legend = ", ".join(f"{marker} {word}" for _, marker, _, word in _CHANGES) + ", # doc"
    output = [f"Configuration ({legend}):"]
    for path, text in lines:
        change = _change_of(summary, path)
        doc = summary.docs.get(path)
        if color:
            line = f"{change[2]}{text}{_RESET}" if change else text
            comment = f"{' ' * (width - len(text))}  {_DOC_COLOR}# {doc}{_RESET}" if doc else ""
        else:
            line = f"{change[1] if change else ' '}{text}"
            comment = f"{' ' * (width - len(text))}  # {doc}" if doc else ""
        output.append(line + comment)
    return "\n".join(output)


def _collect(node: Mapping, prefix: str, depth: int, lines: list[tuple[str, str]]) -> None:
    for key in sorted(node, key=str):
        value = node[key]
        path = f"{prefix}{key}"
        indent = "  " * depth
        if isinstance(value, Mapping) and value:
            lines.append((path, f"{indent}{key}:"))
            _collect(value, path + ".", depth + 1, lines)
        else:
            shown = {} if isinstance(value, Mapping) else value
            lines.append((path, f"{indent}{key} = {shown!r}"))


def _change_of(summary: ConfigSummary, path: str) -> tuple[str, str, str, str] | None:
    for change in _CHANGES:
        if path in getattr(summary, change[0]):
            return change
    return None


def format_dependencies(experiment_info: Mapping[str, Any]) -> str:
    """Packages with versions, source files with md5, and git state of an experiment."""
    output = ["Dependencies:"]
    for requirement in experiment_info.get("dependencies", []):
        name, _, version = requirement.partition("==")
        output.append(f"  {name:<30} == {version}")
    output.append("Sources:")
    for path, md5 in experiment_info.get("sources", []):
        output.append(f"  {path:<40} {md5}")
    repositories = experiment_info.get("repositories", [])
    if repositories:
        output.append("Version control:")
        for repo in repositories:
            state = "dirty" if repo.get("dirty") else "clean"
            output.append(f"  {state}  {repo.get('url') or '(no remote)'}  {repo['commit']}")
    return "\n".join(output)


def format_named_configs(named: Mapping[str, Any]) -> str:
    """Named config names, each with the first line of its documentation."""
    if not named:
        return "Named configs: none"
    width = max(map(len, named))
    output = ["Named configs:"]
    for name in sorted(named):
        doc = first_line(named[name].__doc__)
        output.append(f"  {name:<{width}}  # {doc}" if doc else f"  {name}")
    return "\n".join(output)


def first_line(doc: str | None) -> str:
    """The first non-empty line of a docstring (``""`` if none)."""
    for line in (doc or "").strip().splitlines():
        if line.strip():
            return line.strip()
    return ""
