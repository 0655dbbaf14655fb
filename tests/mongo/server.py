"""Start and stop a SecantusDB server (MongoDB wire protocol) as a separate process.

SecantusDB is GPL-2.0: it is only ever run as a subprocess (``secantusd-py``), never
imported. Used by the Mongo tests' fixtures and by ``benchmarks/bench_mongo.py``.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.service_helpers import free_port


def secantus_binary() -> str | None:
    """Path of ``secantusd-py`` (next to this interpreter, else on PATH), or None."""
    local = Path(sys.executable).parent / "secantusd-py"
    if local.exists():
        return str(local)
    return shutil.which("secantusd-py")


@dataclass
class MongoServer:
    """A MongoDB-protocol server: its URI and, when started here, how to stop and restart it.

    Attributes:
        uri: ``mongodb://host:port``.
        command: the command line that starts it (None for an external server).
    """

    uri: str
    command: list[str] | None = None
    process: subprocess.Popen | None = None

    @classmethod
    def secantus(cls, storage: Path, port: int | None = None) -> MongoServer:
        """A SecantusDB server (not started yet) on a free loopback port.

        Raises:
            FileNotFoundError: ``secantusd-py`` is not installed.
        """
        binary = secantus_binary()
        if binary is None:
            raise FileNotFoundError('secantusd-py not found: pip install "SecantusDB==0.7.0b3"')
        port = port or free_port()
        command = [
            binary,
            "--host", "127.0.0.1",
            "--port", str(port),
            "--storage-path", str(storage),
            "--log-level", "WARNING",
        ]  # fmt: skip
        return cls(f"mongodb://127.0.0.1:{port}", command)

    def ping(self) -> bool:
        """True if the server answers ``ping``."""
        import pymongo

        client = pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=300)
        try:
            client.admin.command("ping")
            return True
        except pymongo.errors.PyMongoError:
            return False
        finally:
            client.close()

    def start(self, timeout: float = 30.0) -> None:
        """(Re)start the server; wait until it answers.

        Raises:
            RuntimeError: it did not answer within ``timeout`` seconds.
        """
        assert self.command is not None, "an external server cannot be started"
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while not self.ping():
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.process.kill()
                raise RuntimeError(f"SecantusDB did not answer within {timeout} s")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop the server with SIGTERM (SIGKILL after 20 s) and wait for it to exit."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
