"""A local HTTP server that records the requests the notification observers send."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Recorder:
    """Requests received (``(path, json body)``) and the status to answer with."""

    status: int = 200
    requests: list[tuple[str, Any]] = field(default_factory=list)
    url: str = ""

    def bodies(self) -> list[Any]:
        """The JSON bodies, in order."""
        return [body for _, body in self.requests]


@pytest.fixture
def http_server() -> Iterator[Recorder]:
    """A server on 127.0.0.1 (free port) answering every POST with ``recorder.status``."""
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            recorder.requests.append((self.path, json.loads(self.rfile.read(length))))
            self.send_response(recorder.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": true}')

        def log_message(self, format: str, *args: Any) -> None:
            """Keep the server quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
