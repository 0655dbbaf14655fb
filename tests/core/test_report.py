"""FileStorageObserver's template report (mako), from Sacred's observer chapter.

Sacred renders the template into ``report.html`` / ``report.txt`` (the template's suffix) in
the run folder when the run ends; ``basedir/template.html`` is used when no template is
given; the template sees ``run``, ``config``, ``info``, ``cout`` and ``savedir``.
"""

from __future__ import annotations

import importlib.util

import pytest

from sacredlike import Experiment
from sacredlike.errors import MissingExtra
from sacredlike.observers import FileStorageObserver

from .conftest import FAST

TEMPLATE = """\
${run['experiment']['name']} ${run['status']} result=${run.get('result')}
lr=${config['lr']} note=${info.get('note')}
% for line in cout.splitlines():
out: ${line}
% endfor
dir=${savedir}
"""


def report_experiment(observer: FileStorageObserver, fail: bool = False) -> Experiment:
    ex = Experiment("report_demo", save_git_info=False)
    ex.observers.append(observer)

    @ex.config
    def cfg():
        lr = 0.25

    @ex.main
    def main(lr, _run):
        print("hello from main")
        _run.info["note"] = "kept"
        if fail:
            raise ValueError("bad")
        return lr * 2

    return ex


def test_report_is_rendered_into_the_run_folder(tmp_path):
    template = tmp_path / "summary.txt"
    template.write_text(TEMPLATE)
    observer = FileStorageObserver(tmp_path / "runs", template=str(template))
    report_experiment(observer).run(options=FAST)
    run_dir = tmp_path / "runs" / "1"
    assert (run_dir / "report.txt").read_text() == (
        f"report_demo COMPLETED result=0.5\nlr=0.25 note=kept\nout: hello from main\n"
        f"dir={run_dir}\n"
    )


def test_failed_run_gets_a_report_too(tmp_path):
    template = tmp_path / "t.txt"
    template.write_text("${run['status']}: ${run['fail_trace'][-1].strip()}")
    observer = FileStorageObserver(tmp_path / "runs", template=template)
    with pytest.raises(ValueError):
        report_experiment(observer, fail=True).run(options=FAST)
    assert (tmp_path / "runs" / "1" / "report.txt").read_text() == "FAILED: ValueError: bad"


def test_basedir_template_html_is_the_default(tmp_path):
    basedir = tmp_path / "runs"
    basedir.mkdir()
    (basedir / "template.html").write_text("<p>${run['status']}</p>")
    report_experiment(FileStorageObserver(basedir)).run(options=FAST)
    assert (basedir / "1" / "report.html").read_text() == "<p>COMPLETED</p>"
    report_experiment(FileStorageObserver(tmp_path / "other")).run(options=FAST)
    assert not (tmp_path / "other" / "1" / "report.html").exists()


def test_missing_template_or_missing_mako_fails_at_construction(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="no template file"):
        FileStorageObserver(tmp_path / "runs", template=tmp_path / "absent.html")
    (tmp_path / "t.html").write_text("x")
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "mako" else real(name, *a)
    )
    with pytest.raises(MissingExtra, match=r"sacredlike\[report\]"):
        FileStorageObserver(tmp_path / "runs", template=tmp_path / "t.html")
