"""Observer health: failures are recorded in the run and shown; strict mode fails the run."""

from __future__ import annotations

import pytest

from sacredlike import Experiment, open_store
from sacredlike.console import main as console
from sacredlike.errors import ObserverError
from sacredlike.observers import FileStorageObserver, RunObserver

OPTIONS = {"--capture": "sys", "--beat-interval": 0.02}


class Broken(RunObserver):
    """Fails every heartbeat, like a store that went away."""

    def heartbeat_event(self, **kwargs):
        raise ConnectionError("store went away")


def _experiment(tmp_path, **kwargs):
    ex = Experiment("health", **kwargs)
    ex.observers += [FileStorageObserver(tmp_path / "runs"), Broken()]

    @ex.main
    def main():
        import time

        time.sleep(0.1)
        return 1

    return ex


def test_failures_are_recorded_in_the_run_and_shown(tmp_path, capsys):
    run = _experiment(tmp_path).run(options=OPTIONS)
    assert run.status == "COMPLETED"
    with open_store(str(tmp_path / "runs")) as store:
        [failure] = store.get_run(run._id).info["observer_failures"]
    assert failure["observer"] == "Broken" and failure["event"] == "heartbeat_event"
    assert "store went away" in failure["error"] and failure["time"]
    assert console(["show", str(tmp_path / "runs"), str(run._id)]) == 0
    shown = capsys.readouterr().out
    assert "1 observer failure(s) during the run" in shown
    assert "Broken in heartbeat_event: store went away" in shown


@pytest.mark.parametrize("how", ["argument", "flag"])
def test_strict_observers_fail_the_run(tmp_path, how):
    ex = _experiment(tmp_path, strict_observers=how == "argument")
    options = {**OPTIONS, "--strict-observers": how == "flag"}
    with pytest.raises(ObserverError, match="store went away"):
        ex.run(options=options)
    with open_store(str(tmp_path / "runs")) as store:
        assert [run.status for run in store.find_runs()] == ["FAILED"]
