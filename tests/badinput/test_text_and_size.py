"""Corpus, categories "text" and "size": odd characters and big output, stored whole everywhere.

Each text case puts one odd string in the captured output, an info key and value, the
config, the result or the comment; every sink must end the run COMPLETED and read the
string back unchanged (escaped where a server refuses it: ``docs/values.md``).
"""

from __future__ import annotations

import sys

import pytest

from .conftest import assert_intact, record, snapshot

ODD_TEXT = [
    ("nul", "a\x00b"),
    ("escape-char", "private \ue000 use"),
    ("escape-lookalike", "\ue0000 and \ue000u0041"),
    ("control-chars", "bell\x07 esc\x1b[31m del\x7f"),
    ("emoji-and-rtl", "🔥 \u202eevil\u202c ünï"),
    ("crlf-and-tabs", "line\r\nnext\tcol\r"),
]
SURROGATE = "bad\udc80half"


@pytest.mark.parametrize("text", [t for _, t in ODD_TEXT], ids=[i for i, _ in ODD_TEXT])
def test_odd_text_in_output_info_config_and_result(store, baseline, text):
    def main(_run, word):
        print(f"<{text}>")
        _run.info[f"key {text}"] = {"value": text, "list": [text]}
        return {"result": text}

    run = record(store, main, config={"word": text}, options={"--comment": f"c {text}"})
    shot = snapshot(store, run._id)
    assert shot.status == "COMPLETED"
    assert f"<{text}>" in shot.captured_out
    assert shot.info == {f"key {text}": {"value": text, "list": [text]}}
    assert shot.result == {"result": text}
    with store.reader() as reader:
        stored = reader.get_run(run._id)
    assert stored.config["word"] == text and stored.meta["comment"] == f"c {text}"
    assert_intact(store, baseline)


@pytest.mark.parametrize("where", ["info-value", "info-key", "result"])
def test_lone_surrogate(store, baseline, where):
    def main(_run):
        if where == "info-value":
            _run.info["odd"] = SURROGATE
        elif where == "info-key":
            _run.info[SURROGATE] = 1
        return SURROGATE if where == "result" else None

    run = record(store, main)
    shot = snapshot(store, run._id)
    assert shot.status == "COMPLETED"
    expected = {"info-value": {"odd": SURROGATE}, "info-key": {SURROGATE: 1}}.get(where, {})
    assert shot.info == expected
    assert shot.result == (SURROGATE if where == "result" else None)
    assert_intact(store, baseline)


def test_nul_written_to_stderr(store, baseline):
    def main():
        sys.stderr.write("err\x00or\n")

    run = record(store, main)
    shot = snapshot(store, run._id)
    assert shot.status == "COMPLETED" and "err\x00or\n" in shot.captured_out
    assert_intact(store, baseline)


def test_output_beyond_the_column_limit_is_kept_whole(store, baseline, monkeypatch):
    """A small limit stands in for each server's (the MariaDB test below uses the real one)."""
    from sacredlike.observers.document.writer import DocumentObserver
    from sacredlike.observers.rows.store import RowStore

    monkeypatch.setattr(RowStore, "output_limit", 1000)
    monkeypatch.setattr(DocumentObserver, "output_limit", 1000)
    lines = [f"line {index:05d} " + "x" * 40 for index in range(200)]

    def main():
        for line in lines:
            print(line)

    run = record(store, main)
    shot = snapshot(store, run._id)
    assert shot.status == "COMPLETED"
    assert shot.captured_out == "".join(line + "\n" for line in lines)
    with store.reader() as reader:
        assert "cout.txt" not in reader.get_run(run._id).artifacts
    assert_intact(store, baseline)


def test_mariadb_beat_with_more_than_16_mib_of_new_output(mariadb_db):
    from sacredlike import Experiment, open_store
    from sacredlike.observers.sql import SqlObserver

    ex = Experiment("big", save_git_info=False)
    observer = SqlObserver(mariadb_db.url)
    ex.observers.append(observer)
    block = ("0123456789abcdef" * 64 + "\n") * 1024  # 1 MiB and 1 KiB

    @ex.main
    def main():
        for _ in range(17):
            sys.stdout.write(block)

    run = ex.run(options={"--capture": "sys", "--beat-interval": 0})
    with open_store(mariadb_db.url) as reader:
        stored = reader.get_run(run._id)
    assert stored.status == "COMPLETED"
    assert stored.captured_out == block * 17
    observer.engine.dispose()


def test_observer_failure_is_one_short_warning(store, baseline, caplog):
    from sacredlike.observers import RunObserver

    class Failing(RunObserver):
        priority = 0

        def heartbeat_event(self, **kwargs):
            raise RuntimeError("disk on fire\nsecond line")

    def main():
        print("work")

    from sacredlike import Experiment

    ex = Experiment("failing", save_git_info=False)
    ex.observers += [store.observer(), Failing()]
    ex.main(main)
    run = ex.run(options={"--capture": "sys", "--beat-interval": 0.02})
    warnings = [r.getMessage() for r in caplog.records if "Failing failed" in r.getMessage()]
    assert warnings == [
        "observer Failing failed in heartbeat_event (will retry at the next event): disk on fire"
    ]
    shot = snapshot(store, run._id)
    assert shot.status == "COMPLETED" and "Traceback" not in shot.captured_out
    assert_intact(store, baseline)


BIG_TEXT = "0123456789" * 2_000_000  # 20 MB: more than MariaDB's packet or a MongoDB document


@pytest.mark.parametrize("where", ["info", "result", "config"])
def test_a_20_mb_field_is_stored_whole(store, baseline, where):
    def main(_run, blob):
        if where == "info":
            _run.info["big"] = BIG_TEXT
        print("done")
        return {"big": BIG_TEXT} if where == "result" else 7

    config = {"blob": BIG_TEXT if where == "config" else ""}
    run = record(store, main, config=config)
    with store.reader() as reader:
        stored = reader.get_run(run._id)
        listed = {found.id: found for found in reader.find_runs()}[run._id]
    assert stored.status == "COMPLETED" and "done" in stored.captured_out
    expected = {
        "info": ({"big": BIG_TEXT}, 7, ""),
        "result": ({}, {"big": BIG_TEXT}, ""),
        "config": ({}, 7, BIG_TEXT),
    }[where]
    info = {k: v for k, v in (stored.info or {}).items() if k != "metrics"}
    assert (info, stored.result, stored.config["blob"]) == expected
    assert (listed.result, listed.config["blob"]) == expected[1:]  # listings may omit info
    assert stored.artifacts == []
    assert_intact(store, baseline)
