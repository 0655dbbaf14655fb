"""What a run records about its machine (``host_info``), gathered once per process.

Extra entries come from :func:`host_info_gatherer` objects passed to
``Experiment(additional_host_info=[...])`` or, Sacred's older way, from functions registered
for every experiment with :func:`host_info_getter` (kept in :data:`host_info_gatherers`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import platform
import shutil
import socket
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .settings import SETTINGS

host_info_gatherers: dict[str, Callable[[], Any]] = {}
"""Entries every run's host info gets: ``{name: function}``, filled by :func:`host_info_getter`."""


class IgnoreHostInfo(Exception):
    """Raise it in a host info function to leave its entry out."""


class HostInfoGetter:
    """A named zero-argument function giving one host info entry (see :func:`host_info_gatherer`).

    Attributes:
        name: the entry's name in ``host_info``.
        getter_function: the function computing the value.
    """

    def __init__(self, getter_function: Callable[[], Any], name: str) -> None:
        self.getter_function = getter_function
        self.name = self.__name__ = name

    def __call__(self) -> Any:
        """The entry's value."""
        return self.getter_function()


def host_info_gatherer(name: str) -> Callable[[Callable[[], Any]], HostInfoGetter]:
    """Decorator: make ``function()`` the host info entry ``name``.

    Pass the result in ``Experiment(additional_host_info=[...])``.
    """

    def decorate(function: Callable[[], Any]) -> HostInfoGetter:
        return HostInfoGetter(function, name)

    return decorate


def host_info_getter(function: Callable[[], Any] | None = None, *, name: str | None = None) -> Any:
    """Deprecated decorator (Sacred's): add ``function()`` to the host info of every run.

    Use as ``@host_info_getter`` or ``@host_info_getter(name="entry")``; the entry is named
    after the function unless ``name`` is given. Prefer :func:`host_info_gatherer`.
    """
    warnings.warn(
        "host_info_getter is deprecated; use host_info_gatherer and "
        "Experiment(additional_host_info=[...])",
        DeprecationWarning,
        stacklevel=2,
    )

    def register(target: Callable[[], Any]) -> Callable[[], Any]:
        host_info_gatherers[name or target.__name__] = target
        return target

    return register if function is None else register(function)


def host_info(additional: Mapping[str, Callable[[], Any]] | None = None) -> dict[str, Any]:
    """The host record: hostname, os, python_version, cpu, gpus (if any), ENV (whitelisted).

    Also the entries of :data:`host_info_gatherers`. A function raising
    :class:`IgnoreHostInfo` leaves its entry out.

    Args:
        additional: extra entries as ``{name: zero-argument function}``, evaluated now.
    """
    info = dict(_static_host_info())
    captured_env = SETTINGS.HOST_INFO.CAPTURED_ENV
    info["ENV"] = {name: os.environ[name] for name in captured_env if name in os.environ}
    for name, getter in {**host_info_gatherers, **(additional or {})}.items():
        with contextlib.suppress(IgnoreHostInfo):
            info[name] = getter()
    return info


def get_host_info(
    additional_host_info: Iterable[HostInfoGetter] | None = None,
) -> dict[str, Any]:
    """Sacred's name: :func:`host_info` with extra :class:`HostInfoGetter` entries."""
    return host_info({getter.name: getter for getter in additional_host_info or ()})


@functools.lru_cache(maxsize=1)
def _static_host_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "hostname": socket.gethostname(),
        "os": [platform.system(), platform.platform()],
        "python_version": platform.python_version(),
    }
    if SETTINGS.HOST_INFO.INCLUDE_CPU_INFO:
        info["cpu"] = _cpu_name()
    if SETTINGS.HOST_INFO.INCLUDE_GPU_INFO:
        gpus = _gpu_info()
        if gpus is not None:
            info["gpus"] = gpus
    return info


def _cpu_name() -> str:
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
                for line in cpuinfo:
                    if line.startswith("model name"):
                        return line.split(":", 1)[1].strip()
        except OSError:
            pass
    return platform.processor() or platform.machine()


def _gpu_info() -> dict[str, Any] | None:
    """GPUs reported by ``nvidia-smi -q -x``, or None without NVIDIA tools."""
    nvidia_smi = shutil.which("nvidia-smi")
    if nvidia_smi is None:
        return None
    try:
        xml = subprocess.run(
            [nvidia_smi, "-q", "-x"], capture_output=True, timeout=10, check=True
        ).stdout
        root = ET.fromstring(xml)
    except (OSError, subprocess.SubprocessError, ET.ParseError):
        return None
    gpus = [
        {
            "model": gpu.findtext("product_name"),
            "total_memory": gpu.findtext("fb_memory_usage/total"),
            "persistence_mode": gpu.findtext("persistence_mode") == "Enabled",
        }
        for gpu in root.findall("gpu")
    ]
    return {"driver_version": root.findtext("driver_version"), "gpus": gpus}
