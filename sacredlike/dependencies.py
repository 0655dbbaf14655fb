"""What a run records about its code: source files with md5, package versions, git state."""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_ENVIRONMENT_DIRS = ("site-packages", "dist-packages")


@dataclass(frozen=True)
class Source:
    """A source file of the experiment."""

    path: Path
    md5: str

    def relative_to(self, base_dir: Path) -> str:
        """The path as stored in the run record: relative to ``base_dir`` where possible."""
        try:
            return self.path.relative_to(base_dir).as_posix()
        except ValueError:
            return self.path.as_posix()


def file_md5(path: str | os.PathLike[str]) -> str:
    """Hex md5 of a file's content, read in chunks (cached by path, size and mtime)."""
    stat = os.stat(path)
    return _md5_cached(os.fspath(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=4096)
def _md5_cached(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def imported_sources(base_dir: Path) -> list[Path]:
    """Files of already-imported modules that live under ``base_dir`` (not in a venv)."""
    base = str(base_dir.resolve()) + os.sep
    found = set()
    for module in list(sys.modules.values()):
        filename = getattr(module, "__file__", None)
        if not filename or not filename.endswith(".py"):
            continue
        path = os.path.abspath(filename)
        if path.startswith(base) and not any(part in path for part in _ENVIRONMENT_DIRS):
            found.add(Path(path))
    return sorted(found)


def sources_of(paths: Iterable[Path]) -> list[Source]:
    """:class:`Source` entries (with md5) for existing files among ``paths``, deduplicated."""
    unique = dict.fromkeys(Path(p).resolve() for p in paths)
    return [Source(path, file_md5(path)) for path in unique if path.is_file()]


def imported_packages() -> list[str]:
    """``name==version`` of every installed distribution providing an imported module."""
    by_module = _distributions_by_module()
    names = set()
    stdlib = sys.stdlib_module_names
    for module_name in list(sys.modules):
        top = module_name.partition(".")[0]
        if top in stdlib or top.startswith("_"):
            continue
        names.update(by_module.get(top, ()))
    return sorted(f"{name}=={_version(name)}" for name in names)


def package_version(name: str) -> str:
    """``name==version`` for an installed distribution (``name==<unknown>`` if absent)."""
    return f"{name}=={_version(name)}"


def _version(distribution: str) -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "<unknown>"


_package_index: dict[str, list[str]] | None = None
_package_index_lock = threading.Lock()


def _distributions_by_module() -> dict[str, list[str]]:
    """Top-level module name → distributions providing it (built once per process)."""
    global _package_index
    with _package_index_lock:
        if _package_index is None:
            import importlib.metadata

            _package_index = dict(importlib.metadata.packages_distributions())
        return _package_index


def prefetch_package_index() -> None:
    """Build the module → distribution index in a background thread.

    Scanning the installed distributions takes tens of milliseconds; an experiment starts
    this when it is created, so its first run does not wait for it.
    """
    if _package_index is None:
        threading.Thread(
            target=_distributions_by_module, name="sacredlike-package-index", daemon=True
        ).start()


def git_info(path: Path) -> dict[str, Any] | None:
    """``{"url", "commit", "dirty"}`` of the git work tree holding ``path``, or None."""
    directory = path if path.is_dir() else path.parent
    return _git_info_cached(str(directory.resolve()))


@functools.lru_cache(maxsize=64)
def _git_info_cached(directory: str) -> dict[str, Any] | None:
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", directory, *args],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return None
    status = git("status", "--porcelain", "--untracked-files=no")
    return {
        "url": git("config", "--get", "remote.origin.url"),
        "commit": commit,
        "dirty": bool(status),
    }
