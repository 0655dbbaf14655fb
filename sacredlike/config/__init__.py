"""The config system: scopes, dicts, files, dotted paths and read-only views."""

from .files import load_config_file, save_config_file
from .paths import get_by_dotted_path, iterate_flattened, recursive_update, set_by_dotted_path
from .readonly import ReadOnlyDict, ReadOnlyList, read_only
from .scope import ConfigDict, ConfigScope

__all__ = [
    "ConfigDict",
    "ConfigScope",
    "ReadOnlyDict",
    "ReadOnlyList",
    "get_by_dotted_path",
    "iterate_flattened",
    "load_config_file",
    "read_only",
    "recursive_update",
    "save_config_file",
    "set_by_dotted_path",
]
