import pytest

from bot.extract.qtype import (
    DATE,
    MONEY,
    NAME,
    NUMBER,
    PERCENT,
    PERSON,
    PHRASE,
    PLACE,
    question_type,
)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many bridges cross the river?", NUMBER),
        ("How much did the new stadium cost?", MONEY),
        ("How much water does the tank hold?", NUMBER),
        ("How long did the siege last?", NUMBER),
        ("What percentage of voters turned out?", PERCENT),
        ("When was the bridge opened?", DATE),
        ("In what year did the war end?", DATE),
        ("Which century saw the castle built?", DATE),
        ("Who designed the cathedral?", PERSON),
        ("Whose army crossed the Alps?", PERSON),
        ("Where did the treaty get signed?", PLACE),
        ("In which city was she born?", PLACE),
        ("What is the capital of Peru?", PLACE),
        ("what is the museum's capacity", NUMBER),
        ("What was the cost of the canal?", MONEY),
        ("Which company built the engine?", NAME),
        ("What did the council vote for?", PHRASE),
        ("Why did the dam fail?", PHRASE),
    ],
)
def test_expected_kind(question, kind):
    assert question_type(question).kind == kind


def test_focus_noun_of_how_many():
    assert question_type("How many prisoners live there?").focus == "prisoners"


@pytest.mark.parametrize(
    ("question", "kind", "focus"),
    [
        ("What Swiss city was the center of the movement?", PLACE, "city"),
        ("Which central European country had a Calvinist ruler?", PLACE, "country"),
        ("What present day county is the town in?", PLACE, "county"),
        ("What German ruler invited the refugees?", PERSON, "ruler"),
        ("What modern company builds the engine?", NAME, "company"),
        # A plural noun is not a modifier: "state" here is a verb, not a place.
        ("What articles state that powers remain with member states?", PHRASE, "articles"),
        # "day" after a modifier does not make a date question.
        ("What present-day city was the settlement near?", PLACE, "city"),
    ],
)
def test_modified_head_noun(question, kind, focus):
    got = question_type(question)
    assert (got.kind, got.focus) == (kind, focus)
