"""What a run records about the experiment's code: its name, sources, packages and git state."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .dependencies import (
    git_info,
    imported_packages,
    imported_sources,
    package_version,
    sources_of,
)
from .errors import ConfigError
from .settings import SETTINGS

if TYPE_CHECKING:
    from .ingredient import Ingredient


def gather_experiment_info(root: Ingredient) -> dict[str, Any]:
    """``{"name", "base_dir", "sources", "dependencies", "repositories", "mainfile"}`` of ``root``.

    Sources and packages of every ingredient count, plus the main file and (as
    ``SETTINGS.DISCOVER_SOURCES`` / ``DISCOVER_DEPENDENCIES`` say) imported modules. The
    result is built fresh on every call (only the scans of imported modules are reused while
    no module was imported); the caller may keep or change it.
    """
    paths: set[Path] = set()
    dependencies = {package_version("sacredlike")}
    for ingredient in root.traverse_ingredients():
        paths.update(ingredient.sources)
        dependencies.update(ingredient.dependencies)
    if root.mainfile and os.path.isfile(root.mainfile):
        paths.add(Path(root.mainfile))
    if SETTINGS.DISCOVER_SOURCES == "imported":
        paths.update(_imported_sources(root.base_dir, len(sys.modules)))
    if SETTINGS.DISCOVER_DEPENDENCIES == "imported":
        dependencies.update(_imported_packages(len(sys.modules)))
    sources = sources_of(paths)
    repositories: list[dict[str, Any]] = []
    if root.save_git_info:
        seen: set[str] = set()
        for source in sources:
            repo = git_info(source.path)
            if repo is not None and repo["commit"] not in seen:
                seen.add(repo["commit"])
                repositories.append(dict(repo))  # git_info's result is cached and shared
    return {
        "name": root.path,
        "base_dir": str(root.base_dir),
        "sources": sorted([s.relative_to(root.base_dir), s.md5] for s in sources),
        "dependencies": sorted(dependencies),
        "repositories": repositories,
        "mainfile": os.path.basename(root.mainfile) if root.mainfile else None,
    }


# Imported modules are scanned again only when the number of loaded modules changed.
@functools.lru_cache(maxsize=16)
def _imported_sources(base_dir: Path, module_count: int) -> tuple[Path, ...]:
    """:func:`imported_sources` of ``base_dir`` while ``len(sys.modules) == module_count``."""
    return tuple(imported_sources(base_dir))


@functools.lru_cache(maxsize=1)
def _imported_packages(module_count: int) -> tuple[str, ...]:
    """:func:`imported_packages` while ``len(sys.modules) == module_count``."""
    return tuple(imported_packages())


def check_clean(experiment_info: Mapping[str, Any]) -> None:
    """Refuse to run (``--enforce_clean``) unless the sources are in clean git trees.

    Raises:
        ConfigError: a repository has uncommitted changes, or there is no repository.
    """
    dirty = [repo for repo in experiment_info.get("repositories", []) if repo.get("dirty")]
    if dirty:
        raise ConfigError(
            "--enforce_clean: the git tree has uncommitted changes "
            f"(commit {dirty[0]['commit'][:12]}); commit or stash them first"
        )
    if not experiment_info.get("repositories"):
        raise ConfigError("--enforce_clean: the experiment's sources are not in a git repository")
