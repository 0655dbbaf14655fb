"""RunRecord's bookkeeping of metric points offered again after a failed write."""

from __future__ import annotations

import pytest

from sacredlike.dispatch import merge_metrics
from sacredlike.record import RunRecord


def _points(start: int, count: int) -> dict:
    steps = list(range(start, start + count))
    return {"loss": {"name": "loss", "steps": steps, "values": steps, "timestamps": steps}}


@pytest.mark.parametrize("kept", [True, False], ids=["kept", "dropped"])
def test_points_offered_again_after_repeated_failures_are_taken_once(kept):
    record = RunRecord()
    taken: list[int] = []
    backlog: dict = {}
    for start, fails in ((0, True), (3, True), (6, True), (9, False), (12, False)):
        offered = merge_metrics(backlog, _points(start, 3))
        fresh = record.new_points(offered)
        if kept or not fails:
            taken += fresh.get("loss", {"steps": []})["steps"]
        backlog = offered if fails else {}
        if fails:
            record.offer_failed(offered, fresh, kept=kept)
    assert taken == list(range(15))


def test_a_failed_offer_keeps_the_skip_left_from_a_resume():
    record = RunRecord()
    record.skip_points({"loss": 5})
    offered = _points(0, 3)
    fresh = record.new_points(offered)
    record.offer_failed(offered, fresh, kept=False)
    assert record.new_points(_points(0, 7))["loss"]["steps"] == [5, 6]
