"""What a run records about its machine (``host_info``), gathered once per process."""

from __future__ import annotations

import functools
import os
import platform
import shutil
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from typing import Any

from .settings import SETTINGS


def host_info(additional: Mapping[str, Callable[[], Any]] | None = None) -> dict[str, Any]:
    """The host record: hostname, os, python_version, cpu, gpus (if any), ENV (whitelisted).

    Args:
        additional: extra entries as ``{name: zero-argument function}``, evaluated now.
    """
    info = dict(_static_host_info())
    captured_env = SETTINGS.HOST_INFO.CAPTURED_ENV
    info["ENV"] = {name: os.environ[name] for name in captured_env if name in os.environ}
    for name, getter in (additional or {}).items():
        info[name] = getter()
    return info


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
