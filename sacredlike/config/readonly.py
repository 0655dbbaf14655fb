"""Read-only views of config values handed to captured functions."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, NoReturn

from ..errors import ConfigError


def _refuse(*args: Any, **kwargs: Any) -> NoReturn:
    raise ConfigError(
        "the config is read-only inside captured functions; change it with `with key=value` "
        "or set SETTINGS.CONFIG.READ_ONLY_CONFIG = False"
    )


class ReadOnlyDict(dict):
    """A dict that raises :class:`ConfigError` on every modification."""

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse
    __ior__ = _refuse

    def __copy__(self) -> dict:
        return dict(self)

    def __deepcopy__(self, memo: dict) -> dict:
        return {k: copy.deepcopy(v, memo) for k, v in self.items()}


class ReadOnlyList(list):
    """A list that raises :class:`ConfigError` on every modification."""

    __setitem__ = __delitem__ = append = extend = insert = pop = remove = _refuse
    clear = sort = reverse = __iadd__ = __imul__ = _refuse

    def __copy__(self) -> list:
        return list(self)

    def __deepcopy__(self, memo: dict) -> list:
        return [copy.deepcopy(v, memo) for v in self]


def read_only(value: Any) -> Any:
    """``value`` with nested dicts and lists replaced by read-only equivalents."""
    if isinstance(value, Mapping):
        return ReadOnlyDict({k: read_only(v) for k, v in value.items()})
    if isinstance(value, list):
        return ReadOnlyList(read_only(v) for v in value)
    return value
