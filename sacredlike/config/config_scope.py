"""Sacred's module path for :class:`ConfigScope` (``sacredlike.config.config_scope``)."""

from .scope import ConfigScope

__all__ = ["ConfigScope"]
