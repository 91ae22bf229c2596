"""The seed article's dev questions through the real engine: every answerable one right (the
span is a gold answer and sits in the returned sentence), the unanswerable one withheld."""

import json
import shutil
from pathlib import Path

import pytest

from bot.engine import Engine

FIX = Path(__file__).parent.parent / "fixtures"
QUESTIONS = [
    json.loads(line)
    for line in (FIX / "extract_seed_questions.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip()
]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    root = tmp_path_factory.mktemp("seed")
    (root / "corpus").mkdir()
    shutil.copy(FIX / "seed.txt", root / "corpus" / "seed.txt")
    return Engine.open(root / "corpus", root / "index")


@pytest.mark.parametrize("case", QUESTIONS, ids=[q["id"] for q in QUESTIONS])
def test_seed_question(engine, case):
    answer = engine.ask(case["question"])
    if not case["answerable"]:
        assert not answer.answered
        assert answer.answer is None
        return
    assert answer.answered, f"withheld at confidence {answer.confidence}"
    assert answer.answer in case["answers"]
    assert answer.answer in answer.sentence
    c = answer.citations[0]
    doc_text = (FIX / "seed.txt").read_text(encoding="utf-8")
    assert doc_text[c.start : c.end] == answer.answer
    assert doc_text[answer.sentence_start : answer.sentence_start + len(answer.sentence)] == (
        answer.sentence
    )
