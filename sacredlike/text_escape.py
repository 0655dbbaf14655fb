"""Lossless escaping of the characters servers refuse in text (``docs/values.md``).

PostgreSQL refuses NUL in ``text`` and ``jsonb``; no SQL driver and no BSON encoder can send
a lone surrogate (it has no UTF-8 form). Such characters are written as :data:`ESCAPE` (a
private-use character) followed by ``0`` (NUL) or ``u`` and four hex digits (a surrogate);
:data:`ESCAPE` itself is doubled. Text without them is stored unchanged, so other programs
reading the stores see the escape only where such a character was; :func:`unescape`
restores the original.
"""

from __future__ import annotations

import re
from typing import Any

ESCAPE = "\ue000"
"""The escape character (U+E000, the first private-use code point)."""

_WITH_NUL = re.compile("[\x00\ud800-\udfff\ue000]")
_WITHOUT_NUL = re.compile("[\ud800-\udfff\ue000]")
_ESCAPED = re.compile("\ue000(?:\ue000|0|u[0-9a-f]{4})")


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    if char == ESCAPE:
        return ESCAPE * 2
    if char == "\x00":
        return ESCAPE + "0"
    return f"{ESCAPE}u{ord(char):04x}"


def _restored(match: re.Match[str]) -> str:
    code = match.group()[1:]
    if code == ESCAPE:
        return ESCAPE
    if code == "0":
        return "\x00"
    return chr(int(code[1:], 16))


def escape(text: str, nul: bool) -> str:
    """``text`` with surrogates, the escape character and (if ``nul``) NUL escaped."""
    return (_WITH_NUL if nul else _WITHOUT_NUL).sub(_escaped, text)


def unescape(text: str) -> str:
    """The original of a text written by :func:`escape`."""
    return _ESCAPED.sub(_restored, text) if ESCAPE in text else text


def unescape_json(value: Any) -> Any:
    """:func:`unescape` applied to every string and key of JSON data."""
    if isinstance(value, str):
        return unescape(value)
    if isinstance(value, dict):
        return {unescape(k): unescape_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unescape_json(v) for v in value]
    return value
