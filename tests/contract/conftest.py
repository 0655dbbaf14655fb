"""The contract suite: every case runs on every sink (one backend module per sink).

The ``target`` fixture is parametrised over the ``backend_<name>`` fixtures of the modules
in ``backends/``; each yields a fresh store (:class:`~tests.contract.target.Target`).
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from . import backends

SINKS: list[str] = []
for _module in pkgutil.iter_modules(backends.__path__):
    _loaded = importlib.import_module(f"{backends.__name__}.{_module.name}")
    for _name in dir(_loaded):
        if _name.startswith("backend_") or _name in ("mongo_server",) or _name.endswith("_db"):
            globals()[_name] = getattr(_loaded, _name)
        if _name.startswith("backend_"):
            SINKS.append(_name.removeprefix("backend_"))


@pytest.fixture(params=SINKS)
def target(request):
    """A fresh store of each sink in turn."""
    return request.getfixturevalue(f"backend_{request.param}")
