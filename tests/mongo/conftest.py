"""Fixtures for the MongoDB sink: a real SecantusDB server (or ``MONGO_URI``'s mongod).

SecantusDB speaks the MongoDB wire protocol; it is GPL-2.0, so it only ever runs as a
separate process started here (``secantusd-py``), never imported.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service_helpers import service_missing

from .server import MongoServer

pymongo = pytest.importorskip("pymongo")


@pytest.fixture(scope="session")
def mongo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MongoServer]:
    """The session's MongoDB-protocol server."""
    if os.environ.get("MONGO_URI"):
        server = MongoServer(os.environ["MONGO_URI"])
        if not server.ping():
            service_missing(f"MONGO_URI={server.uri} does not answer")
        yield server
        return
    try:
        server = MongoServer.secantus(tmp_path_factory.mktemp("secantus"))
        server.start()
    except (OSError, RuntimeError) as exc:
        service_missing(f"could not start SecantusDB: {exc}")
    yield server
    server.stop()


@pytest.fixture
def db_name() -> str:
    """A fresh database name for one test."""
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def client(mongo_server: MongoServer) -> Iterator[pymongo.MongoClient]:
    """A client on the session's server."""
    with pymongo.MongoClient(mongo_server.uri, serverSelectionTimeoutMS=5000) as client:
        yield client


@pytest.fixture
def db(client: pymongo.MongoClient, db_name: str):
    """The test's own database (dropped afterwards)."""
    yield client[db_name]
    client.drop_database(db_name)


@pytest.fixture
def make_observer(mongo_server: MongoServer, db_name: str, tmp_path: Path):
    """Build observers on the test's database; failure_dir under tmp_path; closes them."""
    from sacredlike.observers.mongo import MongoObserver

    made = []

    def make(cls=MongoObserver, **kwargs):
        kwargs.setdefault("failure_dir", str(tmp_path / "unsent"))
        observer = cls(mongo_server.uri, db_name=db_name, **kwargs)
        made.append(observer)
        return observer

    yield make
    for observer in made:
        observer.store.close()


@pytest.fixture
def reader(mongo_server: MongoServer, db_name: str):
    """A MongoReader on the test's database."""
    from sacredlike.observers.mongo import MongoReader

    with MongoReader.from_url(f"{mongo_server.uri}/{db_name}") as reader:
        yield reader
