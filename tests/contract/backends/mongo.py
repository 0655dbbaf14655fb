"""The MongoDB sink on SecantusDB (or ``MONGO_URI``'s server)."""

from __future__ import annotations

import uuid

import pytest

from tests.mongo.conftest import mongo_server  # noqa: F401 - the session's server fixture

from ..target import Target


@pytest.fixture
def backend_mongo(mongo_server, tmp_path):  # noqa: F811 - the imported fixture
    """A fresh database on the session's server."""
    import pymongo

    from sacredlike.observers import MongoObserver

    name = f"c_{uuid.uuid4().hex[:12]}"
    url = f"{mongo_server.uri}/{name}"

    def make(**kwargs):
        kwargs.setdefault("failure_dir", str(tmp_path / "unsent"))
        return MongoObserver(mongo_server.uri, db_name=name, **kwargs)

    target = Target("mongo", url, make)
    yield target
    target.close()
    with pymongo.MongoClient(mongo_server.uri, serverSelectionTimeoutMS=5000) as client:
        client.drop_database(name)
