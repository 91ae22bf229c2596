"""The answer pool: worker processes (and the in-process thread) answering like the engine."""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

import pytest

from bot.chat.answering import AnswerPool
from bot.engine import Engine, QuestionError
from tests.chat.conftest import CAPACITY_Q, make_corpus


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return Engine.open(make_corpus(tmp_path / "corpus"), tmp_path / "index")


@pytest.mark.parametrize("processes", [0, 1])
async def test_pool_answers_as_the_engine_does(engine: Engine, processes: int) -> None:
    pool = AnswerPool(engine, processes)
    try:
        await pool.start()
        got = await pool.ask(CAPACITY_Q, 5)
        assert got.answer == engine.ask(CAPACITY_Q, 5).answer == "40,000 inmates"
        with pytest.raises(QuestionError):
            await pool.ask("   ", 5)
    finally:
        await pool.close()
    # Closing waits for the workers: none is left running.
    assert multiprocessing.active_children() == []


async def test_worker_follows_a_reindex_by_the_bot(engine: Engine) -> None:
    pool = AnswerPool(engine, 1)
    question = "how tall is the Pellworm lighthouse"
    try:
        await pool.start()
        assert not (await pool.ask(question, 5)).answered
        (engine.corpus / "new.md").write_text(
            "# Lighthouses\n\nThe Pellworm lighthouse is 41 metres tall.\n", encoding="utf-8"
        )
        engine.refresh()
        after = await pool.ask(question, 5)
        assert after.answer is not None and "41 metres" in after.answer
    finally:
        await pool.close()


async def test_a_killed_worker_is_replaced_and_the_question_answered(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    pool = AnswerPool(engine, 1)
    try:
        await pool.start()
        workers = multiprocessing.active_children()
        assert workers
        for p in workers:
            os.kill(p.pid, signal.SIGKILL)
            p.join(5)
        got = await pool.ask(CAPACITY_Q, 5)
        assert got.answer == "40,000 inmates"
        assert "an answer worker died" in caplog.text
    finally:
        await pool.close()
