"""Run lifecycle: event order, ids, statuses, failures, heartbeats."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from sacredlike import Experiment, SacredInterrupt, TimeoutInterrupt
from sacredlike.errors import ObserverError

from .conftest import FAST, RecordingObserver


def test_completed_run_emits_events_in_order(ex, recorder):
    @ex.main
    def main(_run):
        _run.log_scalar("loss", 1.0)
        return "done"

    run = ex.run(options=FAST)
    assert run.status == "COMPLETED"
    assert run.result == "done"
    assert run._id == 1
    names = recorder.names()
    assert names[0] == "started_event"
    assert names[-2:] == ["completed_event", "join"]
    assert names[-3] == "heartbeat_event"  # the final beat comes before the terminal event
    final_beat = recorder.of("heartbeat_event")[-1]
    assert final_beat["result"] == "done"
    assert recorder.of("completed_event")[0]["result"] == "done"
    started = recorder.of("started_event")[0]
    assert set(started) == {
        "ex_info",
        "command",
        "host_info",
        "start_time",
        "config",
        "meta_info",
        "_id",
    }
    assert started["command"] == "main"
    assert "seed" in started["config"]
    assert recorder.points("loss") == [1.0]


def test_observers_called_by_descending_priority_and_first_id_wins():
    calls = []

    class Named(RecordingObserver):
        def started_event(self, **kwargs):
            calls.append((self.priority, kwargs["_id"]))
            return self.run_id

    low, high, middle = Named(0, "low"), Named(50, None), Named(20, "middle")
    ex = Experiment("prio", save_git_info=False)
    ex.observers.extend([low, high, middle])
    ex.main(lambda: None)
    run = ex.run(options=FAST)
    assert calls == [(50, None), (20, None), (0, "middle")]
    assert run._id == "middle"


def test_preset_id_wins(ex, recorder):
    ex.main(lambda: None)
    run = ex.run(options={**FAST, "--id": "custom"})
    assert run._id == "custom"
    assert recorder.of("started_event")[0]["_id"] == "custom"


def test_failed_run_records_trace_and_reraises(ex, recorder):
    @ex.main
    def main():
        print("before the crash")
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        ex.run(options={**FAST, "--beat-interval": 100})
    failed = recorder.of("failed_event")[0]
    assert isinstance(failed["fail_trace"], list)
    assert all(isinstance(line, str) for line in failed["fail_trace"])
    assert "ValueError: boom" in failed["fail_trace"][-1]
    # output written since the last beat is delivered before the failure (Sacred loses it)
    assert "before the crash" in recorder.of("heartbeat_event")[-1]["captured_out"]
    assert recorder.names()[-2:] == ["failed_event", "join"]


@pytest.mark.parametrize(
    ("exception", "status"),
    [
        (KeyboardInterrupt, "INTERRUPTED"),
        (TimeoutInterrupt, "TIMEOUT"),
        (type("Custom", (SacredInterrupt,), {"STATUS": "PREEMPTED"}), "PREEMPTED"),
    ],
)
def test_interrupts_set_their_status(ex, recorder, exception, status):
    @ex.main
    def main():
        raise exception()

    with pytest.raises(exception):
        ex.run(options=FAST)
    assert recorder.of("interrupted_event")[0]["status"] == status


def test_start_failure_aborts_before_main_and_fails_started_observers():
    ran = []

    class Broken(RecordingObserver):
        def started_event(self, **kwargs):
            raise ConnectionError("database down")

    good = RecordingObserver(priority=10, run_id=7)
    ex = Experiment("abort", save_git_info=False)
    ex.observers.extend([good, Broken(priority=0)])
    ex.main(lambda: ran.append(1))
    with pytest.raises(ObserverError, match="Broken failed in started_event: database down"):
        ex.run(options=FAST)
    assert ran == []
    assert "database down" in good.of("failed_event")[0]["fail_trace"][0]


def test_heartbeat_failure_is_logged_once_and_retried(ex, recorder, caplog):
    class Flaky(RecordingObserver):
        failures = 3

        def heartbeat_event(self, **kwargs):
            if self.failures:
                self.failures -= 1
                raise OSError("disk hiccup")
            super().heartbeat_event(**kwargs)

    flaky = Flaky()
    ex.observers.append(flaky)

    @ex.main
    def main():
        time.sleep(0.3)

    with caplog.at_level(logging.DEBUG, logger="sacredlike.observers"):
        ex.run(options=FAST)
    warnings = [
        r for r in caplog.records if r.levelno == logging.WARNING and "disk hiccup" in r.message
    ]
    assert len(warnings) == 1
    assert any("recovered" in r.message for r in caplog.records)
    assert flaky.of("heartbeat_event")  # still called after failing
    assert flaky.names()[-2:] == ["completed_event", "join"]


def test_missed_metric_points_are_offered_again(ex):
    class DropsFirstBatches(RecordingObserver):
        failures = 2

        def log_metrics(self, **kwargs):
            if self.failures:
                self.failures -= 1
                raise OSError("try later")
            super().log_metrics(**kwargs)

    flaky = DropsFirstBatches()
    ex.observers.append(flaky)

    @ex.main
    def main(_run):
        for i in range(30):
            _run.log_scalar("x", i)
            time.sleep(0.01)

    ex.run(options=FAST)
    assert flaky.points("x") == list(range(30))


def test_terminal_event_reaches_every_observer_even_if_one_raises(ex, recorder):
    class RaisesAtEnd(RecordingObserver):
        def completed_event(self, **kwargs):
            raise RuntimeError("cannot finish")

    ex.observers.insert(0, RaisesAtEnd(priority=99))
    ex.main(lambda: 3)
    run = ex.run(options=FAST)
    assert run.status == "COMPLETED"
    assert recorder.of("completed_event")[0]["result"] == 3


def test_observer_errors_can_be_made_fatal(ex, monkeypatch):
    from sacredlike import SETTINGS

    class Broken(RecordingObserver):
        def artifact_event(self, **kwargs):
            raise OSError("no space")

    ex.observers.append(Broken())
    monkeypatch.setitem(SETTINGS, "OBSERVER_ERRORS", "raise")

    @ex.main
    def main(_run, _config):
        _run.add_artifact(__file__)

    with pytest.raises(ObserverError, match="no space"):
        ex.run(options=FAST)


@pytest.mark.parametrize("interval", [0, -1])
def test_non_positive_beat_interval_still_delivers_every_point(ex, recorder, interval):
    @ex.main
    def main(_run):
        for i in range(1000):
            _run.log_scalar("m", i)

    ex.run(options={**FAST, "--beat-interval": interval})
    assert recorder.points("m") == list(range(1000))
    assert len(recorder.of("heartbeat_event")) == 1


def test_final_beat_is_joined_before_return(ex):
    class Slow(RecordingObserver):
        def log_metrics(self, **kwargs):
            time.sleep(0.2)
            super().log_metrics(**kwargs)

    slow = Slow()
    ex.observers.append(slow)

    @ex.main
    def main(_run):
        for i in range(5000):
            _run.log_scalar("m", i)
        time.sleep(0.05)  # a beat starts while main is still running

    ex.run(options=FAST)
    assert slow.points("m") == list(range(5000))
    assert slow.names()[-2:] == ["completed_event", "join"]


def test_heartbeats_come_from_a_background_thread(ex, recorder):
    threads = set()

    class ThreadSpy(RecordingObserver):
        def heartbeat_event(self, **kwargs):
            threads.add(threading.current_thread().name)

    ex.observers.append(ThreadSpy())

    @ex.main
    def main():
        time.sleep(0.2)

    ex.run(options=FAST)
    assert "sacredlike-heartbeat" in threads


def test_queued_run_only_emits_queued_event(ex, recorder):
    ran = []
    ex.main(lambda: ran.append(1))
    run = ex.run(options={**FAST, "--queue": True})
    assert run.status == "QUEUED"
    assert ran == []
    assert recorder.names() == ["queued_event"]
    queued = recorder.of("queued_event")[0]
    # Sacred's run puts the queue time into the meta info too (observers store it as meta)
    assert queued["meta_info"]["queue_time"] == queued["queue_time"] is not None


def test_unobserved_run_calls_no_observer(ex, recorder):
    ex.main(lambda: 1)
    assert ex.run(options={**FAST, "--unobserved": True}).result == 1
    assert recorder.events == []


def test_info_and_artifacts_reach_observers(ex, recorder, tmp_path):
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"weights")

    @ex.main
    def main(_run):
        _run.info["best"] = 0.9
        _run.add_artifact(artifact, metadata={"epoch": 3})
        _run.add_resource(artifact)

    ex.run(options=FAST)
    assert recorder.of("heartbeat_event")[-1]["info"] == {"best": 0.9}
    event = recorder.of("artifact_event")[0]
    assert event["name"] == "model.bin"
    assert event["metadata"] == {"epoch": 3}
    assert event["content_type"] == "application/octet-stream"
    assert recorder.of("resource_event")[0]["filename"] == str(artifact)
