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
from tests.chat.test_e2e import assert_capacity_answer, only_embed, reply_to

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
