from __future__ import annotations

from pathlib import Path

import pytest

from bot.analyze import Analyzer
from bot.engine import Engine
from bot.retrieve import retrieve
from bot.spelling import Speller, corrected, max_edits

VOCAB = ["capac", "cecot", "prison", "govern", "gang", "salvador", "salvag", "construct"]
DF = {"capac": 3, "cecot": 9, "prison": 5, "govern": 2, "gang": 4, "salvador": 7, "salvag": 1}


def speller() -> Speller:
    return Speller(VOCAB, lambda t: DF.get(t, 1))


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("capas", "capac"),  # "capasity"
        ("ceccot", "cecot"),  # a letter doubled
        ("cecto", "cecot"),  # neighbours swapped: one edit
        ("gover", "govern"),  # "goverment"
        ("salvadr", "salvador"),
        ("costruct", "construct"),
        ("constrcutt", "construct"),  # two edits in a long word
    ],
)
def test_typos_are_matched_to_the_closest_term(typed: str, meant: str) -> None:
    assert speller().correct(typed) == meant


@pytest.mark.parametrize("typed", ["gand", "pris", "2024", "elephant", "capacityx" * 2])
def test_short_numeric_and_far_words_are_left_alone(typed: str) -> None:
    # "gand" is one edit from "gang", but four letters are too few to guess from.
    assert speller().correct(typed) is None


def test_ties_go_to_the_term_in_more_chunks() -> None:
    s = Speller(["salvag", "salvar"], {"salvag": 1, "salvar": 8}.__getitem__)
    assert s.correct("salvaz") == "salvar"


def test_edit_budget_grows_with_length() -> None:
    assert [max_edits(w) for w in ("cat", "gover", "governme", "governmen")] == [0, 1, 1, 2]


def test_misspelt_question_retrieves_what_the_right_spelling_does(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(
        "The prison has a capacity of 40,000 inmates.\n\nThe harbour was dredged in 1887.\n",
        encoding="utf-8",
    )
    (corpus / "b.txt").write_text("Gardens bloom in spring.\n", encoding="utf-8")
    engine = Engine.open(corpus, tmp_path / "index")
    analyzer = Analyzer()
    assert corrected(engine.index, analyzer.terms("what is the prisn capasity")) == [
        ("prisn", "prison"),
        ("capas", "capac"),
    ]
    right = retrieve(engine.index, analyzer, "what is the prison capacity", 3)
    typed = retrieve(engine.index, analyzer, "what is the prisn capasity", 3)
    assert [h.chunk.id for h in typed] == [h.chunk.id for h in right]
    assert typed[0].chunk.text.startswith("The prison has")
