"""Process-wide defaults (``sacredlike.SETTINGS``), with Sacred's names."""

from __future__ import annotations

import os
from typing import Any


class SettingsDict(dict):
    """A dict whose keys can also be read and set as attributes (``SETTINGS.CAPTURE_MODE``).

    Setting an unknown key raises ``KeyError`` naming the known ones, so a typo is not
    silently ignored.
    """

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"no setting {key!r}; known: {sorted(self)}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        if key not in self:
            raise KeyError(f"no setting {key!r}; known: {sorted(self)}")
        self[key] = value


SETTINGS = SettingsDict(
    CAPTURE_MODE="sys" if os.name == "nt" else "fd",
    DISCOVER_SOURCES="imported",
    DISCOVER_DEPENDENCIES="imported",
    OBSERVER_ERRORS="log",
    LEASE_SLACK=10.0,
    HOST_INFO=SettingsDict(
        INCLUDE_GPU_INFO=True,
        INCLUDE_CPU_INFO=True,
        CAPTURED_ENV=[],
    ),
    CONFIG=SettingsDict(
        READ_ONLY_CONFIG=True,
    ),
)
"""Defaults:

* ``CAPTURE_MODE``: ``"fd"`` (POSIX) or ``"sys"``; ``"no"`` disables capturing.
* ``DISCOVER_SOURCES`` / ``DISCOVER_DEPENDENCIES``: ``"imported"`` (modules the experiment
  imported) or ``"none"``.
* ``OBSERVER_ERRORS``: ``"log"`` (an observer failing after start-up is logged and retried)
  or ``"raise"`` (the run fails on the first observer error).
* ``LEASE_SLACK``: seconds added to three beat intervals to give each beat's lease
  (:mod:`sacredlike.lease`); a RUNNING run whose lease is over is reported ``DEAD``.
* ``HOST_INFO.CAPTURED_ENV``: environment variable names recorded in ``host.ENV``.
* ``CONFIG.READ_ONLY_CONFIG``: the config seen by captured functions cannot be modified.
"""
