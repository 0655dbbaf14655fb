"""Driver errors become SinkUnavailable / SinkRejected; rejected final writes are kept."""

from __future__ import annotations

import pytest
from pymongo import errors

from sacredlike.errors import SinkRejected, SinkUnavailable
from sacredlike.observers.document.store import MetricPart
from sacredlike.observers.mongo import driver_errors

from .helpers import Beats, now, start


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (errors.AutoReconnect("connection reset"), SinkUnavailable),
        (errors.OperationFailure("shutting down", code=91), SinkUnavailable),
        (errors.OperationFailure("not allowed", code=13), SinkRejected),
        (errors.DocumentTooLarge("too big"), SinkRejected),
    ],
)
def test_driver_errors_are_translated(error, expected):
    with (
        pytest.raises(expected, match="MongoDB at mongodb://h/db") as caught,
        driver_errors("mongodb://h/db", "testing"),
    ):
        raise error
    assert caught.value.__cause__ is error


@pytest.mark.service
def test_a_17_mb_info_is_stored_as_a_file(make_observer, db, reader, tmp_path):
    observer = make_observer()
    run_id = start(observer, tmp_path)
    beats = Beats(observer)
    blob = "x" * (17 * 1024 * 1024)
    beats.beat(info={"blob": blob}, out="some output\n")
    observer.completed_event(stop_time=now(), result="kept")
    assert beats.errors == [] and observer.saved_to is None
    doc = db.runs.find_one({"_id": run_id})
    assert doc["status"] == "COMPLETED" and doc["info"]["stored_in_file"] == f"info://runs/{run_id}"
    assert reader.get_run(run_id).info == {"blob": blob}


@pytest.mark.service
def test_a_document_the_server_refuses_is_saved(make_observer, db, tmp_path):
    observer = make_observer()
    observer.store.field_budget = lambda: 1 << 40  # no field moved to a file: the server refuses
    run_id = start(observer, tmp_path)
    beats = Beats(observer)
    beats.beat(info={"blob": "x" * (17 * 1024 * 1024)}, out="some output\n")
    assert [type(e) for e in beats.errors] == [SinkRejected]
    assert "refused field(s) info of run" in str(beats.errors[0])
    observer.completed_event(stop_time=now(), result="kept")
    assert observer.saved_to is not None
    assert "x" * 1000 in (observer.saved_to / "run.json").read_text()
    doc = db.runs.find_one({"_id": run_id})
    assert doc["status"] == "COMPLETED" and doc["result"] == "kept"
    assert doc["captured_out"] == "some output\n" and doc["info"] == {}


@pytest.mark.service
def test_a_metric_document_out_of_step_is_rejected(make_observer):
    store = make_observer().store
    part = MetricPart({"run_id": 1, "name": "m"})
    store.append_points([(part, {"steps": [0, 1], "values": [0, 1], "timestamps": [now()] * 2})])
    stale = MetricPart(part.seed, id=part.id, count=5)
    with pytest.raises(SinkRejected, match="holds 2 points, expected 5 to 6"):
        store.append_points([(stale, {"steps": [5], "values": [5], "timestamps": [now()]})])
