"""The /reindex report's text."""

from __future__ import annotations

from bot.chat.commands import describe_update
from bot.models import IndexStats, UpdateReport


def test_reindex_report_groups_thousands_and_agrees_in_number() -> None:
    report = UpdateReport(
        stats=IndexStats(documents=1, chunks=12_345, tokens=3_000_000, built_at=0.0),
        added=("a.md",),
        unchanged=23_456,
        skipped=(("b.pdf", "damaged"),),
        seconds=1.5,
    )
    lines = describe_update(report)
    assert lines[0] == "**Added:** 1 (a.md)"
    assert "**Unchanged:** 23,456" in lines
    assert "**Skipped:** 1 (b.pdf)" in lines
    assert lines[-1] == "Now 1 document, 12,345 chunks · took 1.50 s"
