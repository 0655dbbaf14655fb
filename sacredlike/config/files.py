"""Reading and writing config files (JSON, YAML)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import ConfigError, MissingExtra
from ..serialize import dumps

CONFIG_FILE_SUFFIXES = (".json", ".yaml", ".yml")


def is_config_file_name(name: str) -> bool:
    """Whether ``name`` looks like a config file path (by its suffix)."""
    return name.lower().endswith(CONFIG_FILE_SUFFIXES)


def load_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The dict stored in a JSON or YAML file.

    Raises:
        ConfigError: missing file, unknown suffix, malformed content, or not a mapping.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {str(path)!r}")
    suffix = path.suffix.lower()
    if suffix not in CONFIG_FILE_SUFFIXES:
        raise ConfigError(
            f"config file {str(path)!r}: unknown type {suffix!r}; use one of "
            f"{', '.join(CONFIG_FILE_SUFFIXES)}"
        )
    if suffix == ".json":
        parse, malformed = json.loads, (ValueError,)
    else:
        yaml = _yaml()
        parse, malformed = yaml.safe_load, (ValueError, yaml.YAMLError)
    try:
        data = parse(path.read_text(encoding="utf-8"))  # undecodable bytes: ValueError too
    except malformed as error:
        raise ConfigError(f"config file {str(path)!r} is malformed: {error}") from error
    if not isinstance(data, dict):
        raise ConfigError(f"config file {str(path)!r} must hold a mapping at the top level")
    return data


def save_config_file(config: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write ``config`` to a JSON or YAML file (by suffix)."""
    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        text = _yaml().safe_dump(json.loads(dumps(config)), sort_keys=True)
    else:
        text = dumps(config) + "\n"
    path.write_text(text, encoding="utf-8")


def _yaml() -> Any:
    try:
        import yaml
    except ImportError:
        raise MissingExtra("yaml", "yaml", "yaml", feature="reading YAML config files") from None
    return yaml
