"""What a run records about its code: source files with md5, package versions, git state."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import subprocess
import sys
import threading
import time
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


def present_source(base_dir: str, name: str) -> str | None:
    """The path of source ``name`` under ``base_dir``, or None (with a warning) if it vanished.

    The one policy of every sink for a source file that was listed at start-up but is gone
    when the run is stored: the run goes on and records the source without content.
    """
    path = os.path.join(base_dir or "", name)
    if os.path.isfile(path):
        return path
    logging.getLogger(__name__).warning("source file %s is missing; recorded without content", path)
    return None


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
    index = _package_index()
    found: set[tuple[str, str]] = set()
    stdlib = sys.stdlib_module_names
    for module_name in list(sys.modules):
        top = module_name.partition(".")[0]
        if top in stdlib or top.startswith("_"):
            continue
        found.update(index.get(top, ()))
    return sorted(f"{name}=={version}" for name, version in found)


def package_version(name: str) -> str:
    """``name==version`` for an installed distribution (``name==<unknown>`` if absent)."""
    return f"{name}=={_version(name)}"


@functools.lru_cache(maxsize=256)
def _version(distribution: str) -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "<unknown>"


_index: dict[str, list[tuple[str, str]]] | None = None
_index_lock = threading.Lock()


def _package_index() -> dict[str, list[tuple[str, str]]]:
    """Top-level module name → ``(distribution, version)`` pairs (built once per process).

    Read straight from the ``*.dist-info`` / ``*.egg-info`` folders on ``sys.path``: the
    folder name gives name and version, ``top_level.txt`` (or else ``RECORD``) the modules.
    This is several times faster than ``importlib.metadata.packages_distributions``, which
    parses every distribution's metadata and file list.
    """
    global _index
    with _index_lock:
        if _index is None:
            _index = _scan_installed_distributions()
        return _index


def _scan_installed_distributions() -> dict[str, list[tuple[str, str]]]:
    index: dict[str, list[tuple[str, str]]] = {}
    for entry in dict.fromkeys(sys.path):
        try:
            folders = os.listdir(entry or ".")
        except OSError:
            continue
        for folder in folders:
            stem, _, kind = folder.rpartition(".")
            name, _, version = stem.partition("-")
            if kind not in ("dist-info", "egg-info") or not version:
                continue
            for top in _top_level_modules(os.path.join(entry or ".", folder)):
                index.setdefault(top, []).append((name, version.partition("-")[0]))
    return index


def _top_level_modules(meta_dir: str) -> set[str]:
    try:
        with open(os.path.join(meta_dir, "top_level.txt"), encoding="utf-8") as listing:
            return {line.strip() for line in listing if line.strip()}
    except OSError:
        pass
    try:
        with open(os.path.join(meta_dir, "RECORD"), encoding="utf-8") as record:
            paths = [line.partition(",")[0] for line in record]
    except OSError:
        return set()
    modules = set()
    for path in paths:
        first, slash, _ = path.partition("/")
        if slash:
            if not first.endswith((".dist-info", ".data")) and first not in ("..", "__pycache__"):
                modules.add(first)
        elif first.endswith((".py", ".so", ".pyd")):
            modules.add(first.partition(".")[0])
    return modules


def prefetch_package_index() -> None:
    """Build the module → distribution index in a background thread.

    An experiment starts this when it is created, so its first run rarely waits for it.
    """
    if _index is None:
        threading.Thread(
            target=_package_index, name="sacredlike-package-index", daemon=True
        ).start()


def git_info(path: Path) -> dict[str, Any] | None:
    """``{"url", "commit", "dirty"}`` of the git work tree holding ``path``, or None."""
    directory = path if path.is_dir() else path.parent
    # cached for a few seconds: many runs in a row ask again and again, while a notebook
    # kept open for hours must still see new commits and edits
    return _git_info_cached(str(directory.resolve()), int(time.monotonic() // GIT_INFO_TTL))


GIT_INFO_TTL = 10.0
"""Seconds for which the git state of a directory is reused."""


@functools.lru_cache(maxsize=64)
def _git_info_cached(directory: str, period: int) -> dict[str, Any] | None:
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
