"""Observers: the sinks a run reports to."""

from .base import RunObserver

__all__ = ["RunObserver"]
