"""What a backend fixture yields: a fresh store, how to observe it and how to open it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Target:
    """A fresh, empty store of one sink for one test.

    Attributes:
        sink: the sink's name (the test id).
        url: what :func:`sacredlike.open_store` and ``sacredlike sync --to`` take.
        make_observer: builds a new observer on the store (``**kwargs`` passed through).
    """

    sink: str
    url: str
    make_observer: Callable[..., Any]
    _made: list[Any] = field(default_factory=list)

    def observer(self, **kwargs: Any) -> Any:
        """A new observer on the store, closed after the test."""
        made = self.make_observer(**kwargs)
        self._made.append(made)
        return made

    def close(self) -> None:
        """Close the clients of the observers built here."""
        for made in self._made:
            store = getattr(made, "store", None)
            if hasattr(store, "close"):
                store.close()
            engine = getattr(made, "engine", None)
            if engine is not None:
                engine.dispose()
