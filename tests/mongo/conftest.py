"""Fixtures for the MongoDB sink: a real SecantusDB server (or ``MONGO_URI``'s mongod).

SecantusDB speaks the MongoDB wire protocol; it is GPL-2.0, so it only ever runs as a
separate process started here (``secantusd-py``), never imported.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.service_helpers import free_port, service_missing, wait_until

pymongo = pytest.importorskip("pymongo")


@dataclass
class MongoServer:
    """A running server: its URI and, when started here, how to stop and restart it."""

    uri: str
    process: subprocess.Popen | None = None
    command: list[str] | None = None

    def ping(self) -> bool:
        """True if the server answers."""
        client = pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=300)
        try:
            client.admin.command("ping")
            return True
        except pymongo.errors.PyMongoError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        """Stop the server (SIGTERM) and wait for it to exit."""
        if self.process is None:
            pytest.skip("cannot stop an external MONGO_URI server")
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def start(self) -> None:
        """(Re)start the server on the same port and storage; wait until it answers."""
        assert self.command is not None
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if not wait_until(self.ping, timeout=30, interval=0.1):
            self.process.kill()
            raise RuntimeError("SecantusDB did not answer within 30 s")


def _secantus_binary() -> str | None:
    local = Path(sys.executable).parent / "secantusd-py"
    if local.exists():
        return str(local)
    return shutil.which("secantusd-py")


@pytest.fixture(scope="session")
def mongo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MongoServer]:
    """The session's MongoDB-protocol server."""
    if os.environ.get("MONGO_URI"):
        server = MongoServer(os.environ["MONGO_URI"])
        if not server.ping():
            service_missing(f"MONGO_URI={server.uri} does not answer")
        yield server
        return
    binary = _secantus_binary()
    if binary is None:
        service_missing('secantusd-py not found: pip install "SecantusDB==0.7.0b3"')
    port = free_port()
    storage = tmp_path_factory.mktemp("secantus")
    command = [
        binary,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--storage-path", str(storage),
        "--log-level", "WARNING",
    ]  # fmt: skip
    server = MongoServer(f"mongodb://127.0.0.1:{port}", command=command)
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        service_missing(f"could not start SecantusDB: {exc}")
    yield server
    if server.process is not None and server.process.poll() is None:
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
