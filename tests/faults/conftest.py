"""Fixtures of the fault suite: every sink with its real server, a way to take it away,
real experiment processes, and the table of what each fault did (``SACREDLIKE_FAULT_TABLE``).

``sink`` is parametrised over the contract suite's backends. A sink's
``cut``/``restore`` take its server away and bring it back: a loopback proxy for PostgreSQL,
MariaDB, S3 (moto) and GCS (fake-gcs-server), a real stop and start of the SecantusDB process
the suite started for Mongo; local sinks (files, SQLite, TinyDB) have none.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.contract import conftest as _contract
from tests.service_helpers import TcpProxy

from .scenarios import FaultSink, FaultTable

for _name in dir(_contract):
    if _name.startswith("backend_") or _name in _contract._FIXTURES:
        globals()[_name] = getattr(_contract, _name)

SINKS = _contract.SINKS
SERVER_SINKS = ("postgresql", "mariadb", "mongo", "s3", "gcs")


def _proxied(address: str) -> TcpProxy:
    proxy = TcpProxy(address)
    proxy.start()
    return proxy


def _server_sink(name: str, request: pytest.FixtureRequest) -> Iterator[FaultSink]:
    target = request.getfixturevalue(f"backend_{name}")
    if name in ("postgresql", "mariadb"):
        database = request.getfixturevalue(f"{name}_db")
        proxy = _proxied(database.address)
        via = database.url.replace(database.address, f"127.0.0.1:{proxy.port}")
        yield FaultSink(name, target.url, via, {}, proxy.stop, proxy.start)
        proxy.stop()
    elif name == "mongo":
        server = request.getfixturevalue("mongo_server")
        if server.command is None:
            pytest.skip("needs the SecantusDB started by the tests, not MONGO_URI")
        yield FaultSink(name, target.url, target.url, {}, server.stop, server.start)
        if not server.ping():
            server.start()
    else:
        server, env = request.getfixturevalue("moto" if name == "s3" else "fake_gcs")
        proxy = _proxied(server.url.removeprefix("http://"))
        variable = "AWS_ENDPOINT_URL_S3" if name == "s3" else "STORAGE_EMULATOR_HOST"
        child_env = {**env, variable: f"http://127.0.0.1:{proxy.port}"}
        yield FaultSink(name, target.url, target.url, child_env, proxy.stop, proxy.start)
        proxy.stop()


@pytest.fixture(params=SINKS)
def sink(request: pytest.FixtureRequest) -> Iterator[FaultSink]:
    """A fresh store of each sink in turn, with its outage switch where it has a server."""
    name = request.param
    if name in SERVER_SINKS:
        yield from _server_sink(name, request)
        return
    url = request.getfixturevalue(f"backend_{name}").url
    yield FaultSink(name, url, url, {})


@pytest.fixture(params=SERVER_SINKS)
def server_sink(request: pytest.FixtureRequest) -> Iterator[FaultSink]:
    """A fresh store of each sink with a server that can go away (local sinks have none, so
    outage cases are not made for them)."""
    yield from _server_sink(request.param, request)


@pytest.fixture
def journal_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The journal folder of the test's processes (``SACREDLIKE_JOURNAL_DIR``)."""
    folder = tmp_path / f"journal-{uuid.uuid4().hex[:6]}"
    monkeypatch.setenv("SACREDLIKE_JOURNAL_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def fault_table() -> Iterator[FaultTable]:
    """Rows measured by the tests; written as Markdown to ``$SACREDLIKE_FAULT_TABLE``."""
    table = FaultTable()
    yield table
    destination = os.environ.get("SACREDLIKE_FAULT_TABLE")
    if destination:
        Path(destination).write_text(table.markdown(SINKS), encoding="utf-8")
