"""FileStorageObserver's report: a mako template rendered into the run folder at the end.

As in Sacred, the template sees ``run`` (the run.json entry, times as ISO strings),
``config``, ``info``, ``cout`` (the captured output) and ``savedir`` (the run folder), and
the result is written to ``report<suffix of the template>`` beside run.json. Without an
explicit template, ``basedir/template.html`` is used when it exists. Needs mako:
``pip install "sacredlike[report]"``.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from pathlib import Path
from typing import Any

from ..errors import MissingExtra
from ..serialize import dumps

DEFAULT_TEMPLATE = "template.html"
_SEPARATE = ("config", "info")  # stored in their own files, given to the template by name


def find_template(template: str | os.PathLike[str] | None, basedir: Path) -> str | None:
    """The template to render for each run, as an absolute path, or None for no report.

    Raises:
        FileNotFoundError: ``template`` was given and does not exist.
        MissingExtra: a template was given but mako is not installed.
    """
    has_mako = importlib.util.find_spec("mako") is not None
    if template is None:
        default = basedir / DEFAULT_TEMPLATE
        if not default.is_file():
            return None
        if not has_mako:
            logging.getLogger(__name__).warning(
                '%s is not rendered: reports need mako (pip install "sacredlike[report]")',
                default,
            )
            return None
        return str(default)
    path = Path(template).expanduser().absolute()
    if not path.is_file():
        raise FileNotFoundError(f"FileStorageObserver: no template file {str(path)!r}")
    if not has_mako:
        raise MissingExtra(
            "file_storage", "report", "mako", feature="FileStorageObserver's template reports"
        )
    return str(path)


def render_report(template: str, fields: dict[str, Any], cout: str, savedir: str) -> str:
    """Render ``template`` for a run whose record fields are ``fields``; return the text."""
    from mako.template import Template

    entry = json.loads(dumps({k: v for k, v in fields.items() if k not in _SEPARATE}))
    return Template(filename=template).render(
        run=entry,
        config=fields.get("config", {}),
        info=fields.get("info", {}),
        cout=cout,
        savedir=savedir,
    )


def report_name(template: str) -> str:
    """``report`` with the template's suffix (``report.html``, ``report.txt``, ...)."""
    return "report" + Path(template).suffix
