"""Small public helpers and error types kept at Sacred's import path (``sacredlike.utils``).

``SacredError`` is sacredlike's base error class under Sacred's name; the interrupt classes,
config errors and dotted-path helpers are the ones the rest of sacredlike uses.
"""

from __future__ import annotations

from .config.paths import get_by_dotted_path, recursive_update, set_by_dotted_path
from .errors import (
    ConfigAddedError,
    ConfigError,
    ObserverError,
    SacredInterrupt,
    TimeoutInterrupt,
)
from .errors import SacredlikeError as SacredError


def apply_backspaces_and_linefeeds(text: str) -> str:
    """Render ``\\r`` and ``\\b`` the way a terminal shows them (a ``captured_out_filter``).

    A carriage return moves back to the start of the line and a backspace one character
    back; later characters overwrite. Progress bars then leave only their final state.
    """
    lines = text.split("\n")
    return "\n".join(
        line if "\r" not in line and "\b" not in line else _render_line(line) for line in lines
    )


def _render_line(line: str) -> str:
    cells: list[str] = []
    column = 0
    for char in line:
        if char == "\r":
            column = 0
        elif char == "\b":
            column = max(0, column - 1)
        else:
            if column < len(cells):
                cells[column] = char
            else:
                cells.append(char)
            column += 1
    return "".join(cells)


__all__ = [
    "ConfigAddedError",
    "ConfigError",
    "ObserverError",
    "SacredError",
    "SacredInterrupt",
    "TimeoutInterrupt",
    "apply_backspaces_and_linefeeds",
    "get_by_dotted_path",
    "recursive_update",
    "set_by_dotted_path",
]
