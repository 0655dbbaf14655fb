"""The -m/--mongo_db forms, URIs and hidden credentials."""

from __future__ import annotations

import logging

import pytest

from sacredlike.errors import CommandLineError, MissingExtra, SinkError
from sacredlike.observers.mongo import MongoObserver, MongoTarget, parse_target
from sacredlike.registry import sink_for_scheme, url_scheme

from .helpers import now, start

LOCAL = "mongodb://localhost:27017"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("mydb", MongoTarget(LOCAL, "mydb")),
        # Sacred's forms: .NAME is the runs collection, :ID the run to overwrite
        ("mydb.pre", MongoTarget(LOCAL, "mydb", collection="pre")),
        ("example.org:27018", MongoTarget("mongodb://example.org:27018")),
        ("10.0.0.5:27018:runs_db", MongoTarget("mongodb://10.0.0.5:27018", "runs_db")),
        ("h:1:db.my-runs", MongoTarget("mongodb://h:1", "db", collection="my-runs")),
        ("h:1:db.c:12", MongoTarget("mongodb://h:1", "db", collection="c", overwrite=12)),
        ("h:1:db.c:12!4", MongoTarget("mongodb://h:1", "db", "", 4, "c", 12)),
        ("db.c:12", MongoTarget("mongodb://db.c:12")),  # a host and port, as in Sacred
        ("mydb!50", MongoTarget(LOCAL, "mydb", priority=50)),
        ("h:2:db.p!-3", MongoTarget("mongodb://h:2", "db", "", -3, "p")),
        ("h:27017!5", MongoTarget("mongodb://h:27017", priority=5)),
        ("mongodb://h:1/db", MongoTarget("mongodb://h:1/db", "db")),
        ("mongodb://h:1/db.pre?w=1", MongoTarget("mongodb://h:1/db?w=1", "db", "pre")),
        ("mongodb://u:p@h1:1,h2:2/", MongoTarget("mongodb://u:p@h1:1,h2:2/")),
        (
            "mongodb+srv://u:p!x@cluster.example.net/exp?retryWrites=true!7",
            MongoTarget(
                "mongodb+srv://u:p!x@cluster.example.net/exp?retryWrites=true", "exp", "", 7
            ),
        ),
    ],
)
def test_forms(value, expected):
    assert parse_target(value) == expected


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "empty"),
        ("h:port:db", "port 'port' is not a number"),
        ("a:1:b:c", "too many ':'"),
        ("a:1:b:5", "must follow HOST:PORT:DB.COLLECTION"),
        ("a:1:b.c:5:6", "too many ':'"),
        ("db name", "characters other than"),
        ("h:99999:db", "out of range"),
        ("db!high", "priority after '!' must be an integer"),
        ("http://h/db", "scheme 'http'"),
        ("mongodb:///db", "names no host"),
    ],
)
def test_bad_forms_name_the_problem(value, problem):
    with pytest.raises(CommandLineError, match=problem):
        parse_target(value)


def test_registry_and_from_flag():
    assert url_scheme("mongodb+srv://h/db") == "mongodb"
    sink = sink_for_scheme("mongodb")
    assert (sink.flag, sink.short_flag, sink.extra) == ("--mongo_db", "-m", "mongo")
    observer = sink.observer_from_flag("h:1:db.pre!12")
    assert isinstance(observer, MongoObserver) and observer.priority == 12
    assert observer.store.runs.full_name == "db.pre"
    assert observer.store.metrics.full_name == "db.metrics"
    assert observer.url == "h:1:db.pre"  # the -m form: it names the runs collection
    default = MongoObserver()
    assert default.priority == 30
    for made in (observer, default):
        made.store.close()


def test_missing_driver_names_the_extra(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pymongo" else real(name)
    )
    with pytest.raises(MissingExtra, match=r'pip install "sacredlike\[mongo\]"'):
        MongoObserver()


@pytest.fixture
def alice(client, db_name):
    """A user ``alice`` with password ``s3cretpw`` on the test server."""
    user = f"alice_{db_name}"
    client.admin.command("createUser", user, pwd="s3cretpw", roles=["root"])
    yield user
    client.admin.command("dropUser", user)


@pytest.mark.service
def test_credentials_never_shown(mongo_server, alice, db_name, db, tmp_path, caplog):
    host = mongo_server.uri.split("://", 1)[1]
    uri = f"mongodb://{alice}:s3cretpw@{host}/{db_name}?authSource=admin"
    observer = MongoObserver.from_flag(uri)
    assert "s3cretpw" not in repr(observer) and "s3cretpw" not in observer.url
    assert f"{alice}:***@" in observer.upload_hint
    with caplog.at_level(logging.DEBUG):
        run_id = start(observer, tmp_path, meta_info={"options": {"--mongo_db": uri}})
        observer.completed_event(stop_time=now(), result=None)
    stored = db.runs.find_one({"_id": run_id})
    assert stored["meta"]["options"]["--mongo_db"].startswith(f"mongodb://{alice}:***@")
    assert "s3cretpw" not in str(stored)
    assert "s3cretpw" not in caplog.text
    observer.store.close()

    wrong = MongoObserver.from_flag(uri.replace("s3cretpw", "wr0ngpw"))
    with caplog.at_level(logging.DEBUG), pytest.raises(SinkError) as caught:
        start(wrong, tmp_path)
    assert "authentication failed" in str(caught.value).lower()
    assert "wr0ngpw" not in str(caught.value) and "wr0ngpw" not in caplog.text
    wrong.store.close()


@pytest.mark.service
def test_unreachable_server_error_is_clear_and_safe(tmp_path):
    from tests.service_helpers import free_port

    observer = MongoObserver(
        f"mongodb://bob:hunter22@127.0.0.1:{free_port()}/x", serverSelectionTimeoutMS=200
    )
    observer.beat_retry = type(observer.beat_retry)(attempts=1)
    with pytest.raises(SinkError) as caught:
        start(observer, tmp_path)
    observer.store.close()
    message = str(caught.value)
    assert "unreachable" in message and "hunter22" not in message and "127.0.0.1" in message


@pytest.mark.service
def test_credentials_hidden_end_to_end(mongo_server, alice, db_name, db, caplog):
    from sacredlike import Experiment

    ex = Experiment("secret", save_git_info=False)
    ex.main(lambda: None)
    host = mongo_server.uri.split("://", 1)[1]
    uri = f"mongodb://{alice}:s3cretpw@{host}/{db_name}?authSource=admin"
    with caplog.at_level(logging.DEBUG):
        run = ex.run_commandline(["prog", "-m", uri, "-C", "sys"])
    for observer in run.observers:
        observer.store.close()
    doc = db.runs.find_one({"_id": run._id})
    assert doc["status"] == "COMPLETED"
    assert doc["meta"]["options"]["--mongo_db"].startswith(f"mongodb://{alice}:***@")
    assert "s3cretpw" not in str(doc) and "s3cretpw" not in caplog.text
