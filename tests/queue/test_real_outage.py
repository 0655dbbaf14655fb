"""QueueObserver against real servers taken away from 1 s into the run until after the process
exited (a TCP proxy in front of PostgreSQL, MariaDB and the Mongo test server, stopped and
started again on the same port), then ``sacredlike sync`` twice: every point once, COMPLETED.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from sacredlike import open_store
from sacredlike.console import main as console
from tests.mongo.conftest import mongo_server  # noqa: F401 - the session's server fixture
from tests.service_helpers import TcpProxy
from tests.sql.conftest import mariadb_db, postgresql_db  # noqa: F401 - fixtures

pytestmark = [pytest.mark.service, pytest.mark.slow]

POINTS = 2000
SCRIPT = textwrap.dedent(
    """
    import sys, time
    from sacredlike import Experiment
    from sacredlike.observers import QueueObserver
    from sacredlike.registry import sink_for_scheme, url_scheme

    url, final_timeout = sys.argv[1], float(sys.argv[2])
    covered = sink_for_scheme(url_scheme(url)).observer_from_flag(url)
    queue = QueueObserver(covered, interval=0.1, retry_interval=0.2, final_timeout=final_timeout)
    ex = Experiment("outage")
    ex.observers.append(queue)
    ended = []

    @ex.main
    def main(_run):
        print("started", flush=True)
        for step in range(POINTS):
            _run.log_scalar("loss", step / 4)
            time.sleep(0.001)
        ended.append(time.monotonic())
        return "done"

    run = ex.run(options={"--capture": "no", "--beat-interval": 0.1})
    print(f"run {run._id} returned {time.monotonic() - ended[0]:.3f} s after main", flush=True)
    print(f"journal {queue.kept_journal}", flush=True)
    """
).replace("POINTS", str(POINTS))


def _run(tmp_path, url, proxy, *, outage: bool, final_timeout: float = 2.0):
    script = tmp_path / "outage.py"
    script.write_text(SCRIPT)
    env_journal = tmp_path / "journal"
    process = subprocess.Popen(
        [sys.executable, str(script), url, str(final_timeout)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**__import__("os").environ, "SACREDLIKE_JOURNAL_DIR": str(env_journal)},
    )
    assert process.stdout.readline().strip() == "started"
    if outage:
        time.sleep(1.0)
        proxy.stop()
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    lines = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    run_id = int(lines["run"].split()[0])
    returned = float(lines["run"].split()[2])
    journal = None if lines["journal"] == "None" else lines["journal"]
    return run_id, returned, journal, err


def _check_complete(url, run_id):
    with open_store(url) as store:
        run = store.get_run(run_id)
        loss = store.get_metrics(run_id)["loss"]
    assert run.status == "COMPLETED" and run.result == "done"
    assert loss.steps == list(range(POINTS))
    assert loss.values == [step / 4 for step in range(POINTS)]


def _proxied(address: str) -> TcpProxy:
    proxy = TcpProxy(address)
    proxy.start()
    return proxy


def _sql_url(database, proxy):
    host_port = database.address
    return database.url.replace(host_port, f"127.0.0.1:{proxy.port}")


@pytest.fixture(params=["postgresql", "mariadb", "mongo"])
def store(request, tmp_path):
    """``(url through the proxy, the proxy)`` for each server in turn."""
    if request.param == "mongo":
        server = request.getfixturevalue("mongo_server")
        address = server.uri.removeprefix("mongodb://").split("/")[0]
        proxy = _proxied(address)
        url = f"mongodb://127.0.0.1:{proxy.port}/outage?directConnection=true"
    else:
        database = request.getfixturevalue(f"{request.param}_db")
        proxy = _proxied(database.address)
        url = _sql_url(database, proxy)
    yield url, proxy
    if proxy._listener is not None:
        proxy._listener.close()


def test_store_down_until_after_exit_then_sync_twice_stores_every_point_once(store, tmp_path):
    url, proxy = store
    run_id, returned, journal, err = _run(tmp_path, url, proxy, outage=True)
    assert journal is not None, err
    assert f"sacredlike sync {journal}" in err
    assert returned < 2.0 + 1.5, "ex.run() waits at most final_timeout after main"
    proxy.start()
    assert console(["sync", journal]) == 0
    assert console(["sync", journal]) == 0  # nothing left: a no-op
    _check_complete(url, run_id)


def test_a_copy_of_the_journal_synced_again_stores_nothing_twice(store, tmp_path):
    import shutil

    url, proxy = store
    run_id, _, journal, _ = _run(tmp_path, url, proxy, outage=True)
    spare = tmp_path / "spare"
    shutil.copytree(journal, spare)
    proxy.start()
    assert console(["sync", journal]) == 0
    assert console(["sync", str(spare), "--to", url]) == 0
    _check_complete(url, run_id)


def test_store_up_the_run_returns_at_once_and_leaves_no_journal(store, tmp_path):
    url, proxy = store
    run_id, returned, journal, _ = _run(tmp_path, url, proxy, outage=False)
    assert journal is None
    assert returned < 2.0
    _check_complete(url, run_id)
