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


def test_a_failure_in_the_final_beat_is_recorded_too(tmp_path):
    class FailsAtTheEnd(RunObserver):
        def heartbeat_event(self, **kwargs):
            self.beats = getattr(self, "beats", 0) + 1
            if kwargs["info"].get("last"):
                raise ConnectionError("gone at the end")

    ex = Experiment("health")
    late = FailsAtTheEnd()
    ex.observers += [FileStorageObserver(tmp_path / "runs"), late]

    @ex.main
    def main(_run):
        _run.info["last"] = True  # only the final beat carries it: the main is quick

    run = ex.run(options={"--capture": "sys", "--beat-interval": 60})
    with open_store(str(tmp_path / "runs")) as store:
        stored = store.get_run(run._id)
    [failure] = stored.info["observer_failures"]
    assert failure["observer"] == "FailsAtTheEnd" and "gone at the end" in failure["error"]
    assert stored.status == "COMPLETED"
    assert late.beats == 1  # the failing observer is not called again for it


@pytest.mark.parametrize("how", ["argument", "flag"])
def test_strict_observers_fail_the_run(tmp_path, how):
    ex = _experiment(tmp_path, strict_observers=how == "argument")
    options = {**OPTIONS, "--strict-observers": how == "flag"}
    with pytest.raises(ObserverError, match="store went away"):
        ex.run(options=options)
    with open_store(str(tmp_path / "runs")) as store:
        assert [run.status for run in store.find_runs()] == ["FAILED"]
