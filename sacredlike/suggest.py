"""Suggestions for mistyped names in error messages."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the candidate closest to ``name``, or ``""``.

    For a dotted name with no close match, a candidate ending in the same last part is
    suggested (``lr`` → ``optimizer.lr``).
    """
    candidates = list(candidates)
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if not close:
        last = name.rpartition(".")[2]
        close = [c for c in candidates if c.rpartition(".")[2] == last][:1]
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_name(kind: str, name: str, candidates: Iterable[str]) -> str:
    """``"unknown KIND 'name' (did you mean 'x'?); available: a, b"`` for an error message."""
    candidates = sorted(candidates)
    return (
        f"unknown {kind} {name!r}{did_you_mean(name, candidates)}; available: "
        f"{', '.join(candidates) or 'none'}"
    )
