"""Sacred's module path for :class:`ConfigDict` (``sacredlike.config.config_dict``)."""

from .scope import ConfigDict

__all__ = ["ConfigDict"]
