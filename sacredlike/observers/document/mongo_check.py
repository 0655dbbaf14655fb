"""What ``sacredlike check`` looks for in a MongoDB store.

* metric documents whose run is not in the runs collection (reported: they may be the only
  trace of a run);
* GridFS artifact files (``artifact://<runs>/<id>/<name>``) that no run document lists — an
  upload whose run-document update never happened (reported with the run id);
* GridFS chunks of no file (an upload cut short). Repair: delete them, nothing can reach them.
"""

from __future__ import annotations

from typing import Any

from ..base import Finding


def check_mongo(runs: Any, metrics: Any, database: Any, repair: bool = False) -> list[Finding]:
    """The findings in ``runs``, ``metrics`` and the GridFS bucket ``fs`` of ``database``."""
    findings = []
    run_ids = set(runs.distinct("_id"))
    for run_id in sorted(set(metrics.distinct("run_id")) - run_ids, key=str):
        findings.append(Finding(run_id, "metric documents of a run missing from the runs"))
    listed = {
        entry.get("file_id")
        for doc in runs.find({}, {"artifacts": 1})
        for entry in doc.get("artifacts") or []
        if isinstance(entry, dict)
    }
    prefix = f"artifact://{runs.name}/"
    for file in database["fs.files"].find({"filename": {"$regex": f"^{prefix}"}}):
        if file["_id"] not in listed:
            run_text = file["filename"][len(prefix) :].split("/", 1)[0]
            run_id = int(run_text) if run_text.isdigit() else run_text
            findings.append(Finding(run_id, f"GridFS file {file['filename']} listed by no run"))
    files = set(database["fs.files"].distinct("_id"))
    orphaned = set(database["fs.chunks"].distinct("files_id")) - files
    if orphaned:
        finding = Finding(None, f"GridFS chunks of {len(orphaned)} missing file(s)")
        if repair:
            database["fs.chunks"].delete_many({"files_id": {"$in": list(orphaned)}})
            finding.repaired = True
        findings.append(finding)
    return findings
