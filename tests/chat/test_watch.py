"""Corpus watching: the real bot against the stand-in with ``watch`` on, the corpus changed on
disk by the test, answers read off the wire."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import watchfiles

from bot.chat.embeds import NOT_FOUND
from bot.chat.watch import corpus_filter
from bot.engine import Engine
from tests.chat.conftest import CAPACITY_Q, make_corpus, running_bot
from tests.chat.standin import StandIn
from tests.chat.test_e2e import (
    assert_capacity_answer,
    only_embed,
    reply_to,
    write_long_document,
)

QUESTION = "what colour is the lighthouse keeper's boat"
HARBOUR = (
    "The Harbour\n\nThe lighthouse keeper's boat is painted bright orange so that the rescue "
    "crews can see it in fog.\n"
)


async def ask_until(standin: StandIn, done, seconds: float) -> tuple[str, float]:
    """Ask QUESTION every 0.3 s until ``done(description)``; the description and when."""
    deadline = time.monotonic() + seconds
    while True:
        since = len(standin.requests)
        it = await standin.slash("ask", {"question": QUESTION})
        description = only_embed(await reply_to(standin, it, since))["description"]
        if done(description) or time.monotonic() > deadline:
            return description, time.monotonic()
        await asyncio.sleep(0.3)


def answered(description: str) -> bool:
    return re.search(r"\*\*[^*]*bright orange[^*]*\*\*", description) is not None


async def test_added_file_is_answered_and_removed_file_no_longer_cited(
    standin: StandIn, tmp_path: Path
) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    engine = Engine.open(corpus, tmp_path / "index")
    async with running_bot(standin, engine, tmp_path, watch=True):
        first, _ = await ask_until(standin, lambda d: True, 0)
        assert first.startswith(NOT_FOUND)

        (corpus / "sub").mkdir()
        written = time.monotonic()
        (corpus / "sub" / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
        description, when = await ask_until(standin, answered, 15)
        assert answered(description), description
        assert when - written < 5, f"noticed after {when - written:.1f} s"

        (corpus / "sub" / "harbour.txt").unlink()
        description, when = await ask_until(standin, lambda d: not answered(d), 15)
        assert description.startswith(NOT_FOUND), description
        assert "harbour" not in description.lower()

        # The seed document was never touched: still answered as before.
        since = len(standin.requests)
        it = await standin.slash("ask", {"question": CAPACITY_Q})
        assert_capacity_answer(await reply_to(standin, it, since))


async def test_answers_keep_flowing_while_the_watcher_builds(
    standin: StandIn, tmp_path: Path
) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    engine = Engine.open(corpus, tmp_path / "index")
    async with running_bot(standin, engine, tmp_path, watch=True) as rb:
        builds: list[list[float]] = []
        refresh = rb.bot.refresh_index

        def timed_refresh():
            builds.append([time.monotonic()])
            try:
                return refresh()
            finally:
                builds[-1].append(time.monotonic())

        rb.bot.refresh_index = timed_refresh
        write_long_document(corpus / "ledger.txt", 12_000)
        await standin.wait_for(lambda: builds, 10)
        since = len(standin.requests)
        asks = [await standin.slash("ask", {"question": CAPACITY_Q}) for _ in range(3)]
        answers = [await reply_to(standin, it, since) for it in asks]
        await standin.wait_for(lambda: len(builds[0]) == 2, 60)
        start, end = builds[0]
        # Answered from the old index while the watcher's build was still running.
        assert all(start < a.at < end for a in answers), (start, [a.at for a in answers], end)
        for a in answers:
            assert_capacity_answer(a)
        await standin.wait_for(lambda: all(len(b) == 2 for b in builds), 60)
        since = len(standin.requests)
        it = await standin.slash("ask", {"question": "what is the depot ledger vault lined with"})
        found = only_embed(await reply_to(standin, it, since))["description"]
        assert re.search(r"\*\*[^*]*copper[^*]*\*\*", found), found


def test_filter_keeps_documents_and_folders_not_hidden_or_other_files(tmp_path: Path) -> None:
    accept = corpus_filter(tmp_path)
    added = watchfiles.Change.added
    assert accept(added, str(tmp_path / "a" / "notes.MD"))
    assert accept(added, str(tmp_path / "moved-in-folder"))
    assert not accept(added, str(tmp_path / ".git" / "index.md"))
    assert not accept(added, str(tmp_path / "a" / ".notes.md.swp"))
    assert not accept(added, str(tmp_path / "a" / "notes.md~"))
    assert not accept(added, str(tmp_path / "picture.png"))
    assert not accept(added, str(tmp_path.parent / "elsewhere.md"))
