from dataclasses import replace

from bot.models import Answer, Chunk, Citation, Explanation, Hit, QueryTerm
from bot.render.payload import answer_payload
from bot.render.terminal import NOT_FOUND, render_answer, render_explanation

SENTENCE = "It cost $115 million to construct and has a maximum capacity of 40,000 inmates."
DOC_START = 1000
SPAN = SENTENCE.index("40,000 inmates")


def answered() -> Answer:
    start = DOC_START + SPAN
    cite = Citation("doc.txt", "doc", "What is the CECOT?", 9, start, start + 14, "40,000 inmates")
    chunk = Chunk(0, "doc.txt", "What is the CECOT?", DOC_START, DOC_START + 80, 9, SENTENCE)
    return Answer(
        question="what is CECOT's capacity",
        answered=True,
        answer="40,000 inmates",
        sentence=SENTENCE,
        sentence_start=DOC_START,
        confidence=0.87,
        citations=(cite,),
        sources=(Hit(chunk, 3.2, 0),),
        took_ms=1.5,
    )


def test_piped_output_brackets_the_span_and_cites():
    text = render_answer(answered(), color=False).plain
    lines = text.splitlines()
    assert lines[0] == "40,000 inmates"
    assert "maximum capacity of [40,000 inmates]." in lines[1]
    assert "doc.txt › What is the CECOT? · line 9" in lines[2]


def test_colour_output_highlights_without_brackets():
    text = render_answer(answered(), color=True)
    assert "[40,000" not in text.plain
    styled = [text.plain[s.start : s.end] for s in text.spans if "yellow" in str(s.style)]
    assert styled == ["40,000 inmates"]


def test_not_found_lists_nearest_sources():
    a = answered()
    none = Answer(a.question, False, None, None, None, 0.1, (), a.sources)
    text = render_answer(none, color=False).plain
    assert text.startswith(NOT_FOUND)
    assert "1. doc.txt › What is the CECOT? · line 9" in text


def test_payload_follows_the_cli_contract():
    p = answer_payload(answered(), id="q1")
    assert list(p) == [
        "id", "question", "answered", "answer", "sentence", "confidence", "citations",
        "sources", "took_ms",
    ]  # fmt: skip
    assert p["citations"][0] == {
        "source": "doc.txt",
        "title": "doc",
        "section": "What is the CECOT?",
        "line": 9,
        "start": DOC_START + SPAN,
        "end": DOC_START + SPAN + 14,
        "quote": "40,000 inmates",
    }
    assert p["sources"][0]["text"] == SENTENCE
    assert "id" not in answer_payload(answered())


def test_not_found_without_sources_says_why():
    a = answered()
    none = Answer(a.question, False, None, None, None, 0.0, (), ())
    assert render_answer(none, color=False).plain.splitlines() == [
        NOT_FOUND,
        "No passage shares a word with the question.",
    ]


def explained() -> Answer:
    a = answered()
    ex = Explanation(
        terms=(QueryTerm("CECOT's", "cecot", True), QueryTerm("jail", "jail", False)),
        chunks=a.sources,
        score=12.5,
        runner_up="maximum\x1b[31m",
        runner_up_score=9.25,
        no_answer_score=None,
        threshold=0.45,
    )
    return replace(a, explanation=ex)


def test_explanation_lists_terms_chunks_scores_and_the_decision():
    a = explained()
    assert a.explanation is not None
    lines = render_explanation(a, a.explanation, color=False).plain.splitlines()
    assert lines[1] == "  terms: CECOT's → cecot, jail (not found)"
    assert lines[3] == "    1. doc.txt › What is the CECOT? · line 9  3.20"
    assert lines[4] == "  span score: 12.50 vs runner-up “maximum[31m” 9.25"  # no ESC left
    assert lines[5] == "  no-answer score: none"
    assert lines[6] == "  confidence 0.87 ≥ threshold 0.45: answered"


def test_explanation_in_the_json_answer():
    payload = answer_payload(explained())
    ex = payload["explanation"]
    assert ex["terms"][1] == {"word": "jail", "term": "jail", "corrected": None, "found": False}
    assert ex["chunks"] == [
        {"source": "doc.txt", "section": "What is the CECOT?", "line": 9, "score": 3.2}
    ]
    assert (ex["score"], ex["runner_up_score"], ex["no_answer_score"]) == (12.5, 9.25, None)
    assert ex["threshold"] == 0.45
    assert "explanation" not in answer_payload(answered())
