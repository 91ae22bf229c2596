from pathlib import Path

import pytest

from bot.evaluate.loaders import (
    BEIR,
    JSONL,
    SQUAD,
    detect,
    load_beir,
    load_questions,
    load_squad,
    parse_ranges,
)

FIX = Path(__file__).parent.parent / "fixtures"


def test_squad_articles_questions_and_impossible():
    arts = load_squad(FIX / "eval_squad.json")
    assert [a.title for a in arts] == ["Harbour town", "Mountain pass"]
    qs = {q.id: q for a in arts for q in a.questions}
    assert qs["h2"].answers == ("northern coast", "the northern coast")
    assert qs["h4"].answers == () and not qs["h4"].answerable
    assert (qs["m1"].article, qs["m1"].paragraph) == (1, 0)


def test_jsonl_questions():
    qs = load_questions(FIX / "extract_seed_questions.jsonl")
    assert len(qs) == 8
    assert qs[0].answers == ("40,000 inmates", "40,000")
    assert not qs[-1].answerable


def test_beir_folder_skips_header_and_keeps_grades():
    data = load_beir(FIX / "eval_beir")
    assert data.qrels == {"q1": {"d1": 1}, "q2": {"d2": 1}}
    assert data.corpus["d2"][0] == "Passes"
    assert data.queries["q3"] == "a query with no qrels"


def test_detect():
    assert detect(FIX / "eval_beir") == BEIR
    assert detect(FIX / "eval_squad.json") == SQUAD
    assert detect(FIX / "extract_seed_questions.jsonl") == JSONL


def test_parse_ranges():
    assert parse_ranges("0-2,5", 8) == [0, 1, 2, 5]
    assert parse_ranges(None, 3) == [0, 1, 2]
    with pytest.raises(ValueError):
        parse_ranges("6-9", 8)
