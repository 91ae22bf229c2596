"""Answer → embed: within every Discord limit for any input, the span never silently cut."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.chat import embeds
from bot.models import Answer, Chunk, Citation, Explanation, Hit, QueryTerm

# Text that stresses escaping (markdown, mentions) and length, not only letters.
NASTY = st.sampled_from(
    [
        "*",
        "_",
        "`",
        "~",
        "|",
        ">",
        "#",
        "\\",
        "@everyone",
        "<@&123456789012345678>",
        "\n",
        " ",
        "…",
        "😀",
    ]
)
TEXT = st.lists(st.one_of(st.text(min_size=0, max_size=40), NASTY), max_size=150).map("".join)


def unescape(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown.replace("\u200b", ""), flags=re.S)


def check_limits(e: dict) -> None:
    total = len(e.get("title", "")) + len(e.get("description", ""))
    assert len(e.get("title", "")) <= embeds.TITLE_MAX
    assert len(e.get("description", "")) <= embeds.DESCRIPTION_MAX
    fields = e.get("fields", [])
    assert len(fields) <= embeds.FIELDS_MAX
    for f in fields:
        assert 0 < len(f["name"]) <= embeds.FIELD_NAME_MAX
        assert 0 < len(f["value"]) <= embeds.FIELD_VALUE_MAX
        total += len(f["name"]) + len(f["value"])
    footer = e.get("footer", {}).get("text", "")
    assert len(footer) <= embeds.FOOTER_MAX
    assert total + len(footer) <= embeds.EMBED_TOTAL_MAX


def hit(i: int, source: str, section: str | None, text: str) -> Hit:
    return Hit(Chunk(i, source, section, 0, len(text), 1 + i, text), 1.0 / (i + 1), i)


@st.composite
def answers(draw: st.DrawFn) -> Answer:
    before, span, after = draw(TEXT), draw(TEXT), draw(TEXT)
    sentence = before + span + after
    source = draw(TEXT) or "doc.txt"
    section = draw(st.none() | TEXT)
    hits = tuple(
        hit(i, draw(TEXT) or "d", draw(st.none() | TEXT), draw(TEXT))
        for i in range(draw(st.integers(0, 12)))
    )
    answered = draw(st.booleans()) and bool(span.strip())
    base = 1000
    citation = Citation(
        source, source, section, 7, base + len(before), base + len(before) + len(span), span
    )
    return Answer(
        question=draw(TEXT) or "?",
        answered=answered,
        answer=span if answered else None,
        sentence=sentence if answered else None,
        sentence_start=base if answered else None,
        confidence=draw(st.floats(0, 1)),
        citations=(citation,) if answered else (),
        sources=hits,
        took_ms=draw(st.floats(0, 1e6)),
    )


@settings(max_examples=150, deadline=None)
@given(answers())
def test_any_answer_fits_every_discord_limit(answer: Answer) -> None:
    e = embeds.answer_embed(answer).to_dict()
    check_limits(e)
    if answer.answered:
        desc = e["description"]
        shown = unescape(desc)
        span = " ".join(answer.answer.split())
        if embeds.SHORTENED in desc:
            # Only a span too long to show on its own is shortened, and it says so.
            assert len(embeds.escape(span)) + 4 > embeds.SENTENCE_BUDGET
        else:
            assert f"**{span}**" in shown


@st.composite
def explanations(draw: st.DrawFn) -> Explanation:
    words = draw(st.lists(TEXT, max_size=120))
    return Explanation(
        terms=tuple(QueryTerm(w or "w", draw(TEXT) or "t", draw(st.booleans())) for w in words),
        chunks=draw(answers()).sources,
        score=draw(st.none() | st.floats(-1e9, 1e9)),
        runner_up=draw(st.none() | TEXT),
        runner_up_score=draw(st.none() | st.floats(-1e9, 1e9)),
        no_answer_score=draw(st.none() | st.floats(-1e9, 1e9)),
        threshold=draw(st.floats(0, 1)),
    )


@settings(max_examples=150, deadline=None)
@given(answers(), explanations(), st.booleans())
def test_any_explanation_fits_every_discord_limit(
    answer: Answer, ex: Explanation, changed: bool
) -> None:
    check_limits(embeds.explain_embed(answer, ex, changed=changed).to_dict())


def test_explanation_of_long_terms_and_chunks_is_cut_not_refused() -> None:
    long = "x" * 3000
    hits = tuple(hit(i, long, long, long) for i in range(8))
    ex = Explanation(
        terms=tuple(QueryTerm(f"{long}{i}", "t", i % 2 == 0) for i in range(50)),
        chunks=hits,
        score=1.0,
        runner_up=long,
        runner_up_score=0.5,
        no_answer_score=None,
        threshold=0.45,
    )
    answer = Answer(long, False, None, None, None, 0.1, (), hits)
    e = embeds.explain_embed(answer, ex).to_dict()
    check_limits(e)
    chunks = e["fields"][0]["value"].splitlines()
    assert len(chunks) == embeds.EXPLAINED_CHUNKS and chunks[4].startswith("5. ")
    assert all(line.endswith(f" · {h.score:.2f}") for line, h in zip(chunks, hits, strict=False))
    assert e["fields"][1]["value"].endswith("Confidence 0.10 < threshold 0.45: withheld")


@settings(max_examples=150, deadline=None)
@given(TEXT, TEXT, TEXT, st.integers(embeds.MIN_BUDGET, 5000))
def test_highlight_keeps_span_whole_and_fits(
    before: str, span: str, after: str, budget: int
) -> None:
    out = embeds.highlight(before + span + after, len(before), len(before) + len(span), budget)
    assert len(out) <= budget
    flat = " ".join(span.split())
    if flat and embeds.SHORTENED not in out:
        assert f"**{flat}**" in unescape(out)


def test_span_that_only_just_fits_goes_without_context() -> None:
    """A span of exactly the budget (or one under) leaves no room for a "…" on each side."""
    span = "x" * (embeds.MIN_BUDGET - 4)
    for budget in (embeds.MIN_BUDGET, embeds.MIN_BUDGET + 1):
        out = embeds.highlight("before " + span + " after", 7, 7 + len(span), budget)
        assert len(out) <= budget
        assert f"**{span}**" in out


def test_long_sentence_shortened_around_the_span() -> None:
    before = "word " * 2000
    span = "40,000 inmates"
    after = " and more" * 2000
    out = embeds.highlight(before + span + after, len(before), len(before) + len(span), 300)
    assert len(out) <= 300
    assert out.startswith("…") and out.endswith("…")
    assert "**40,000 inmates**" in out


def test_span_too_long_alone_is_marked() -> None:
    span = "x" * 5000
    out = embeds.highlight(span, 0, len(span), 1500)
    assert len(out) <= 1500 and out.endswith(embeds.SHORTENED) and out.startswith("**x")


def test_mentions_and_markdown_are_defused() -> None:
    out = embeds.escape("@everyone **bold** <@&123456789012345678> @here")
    assert "@everyone" not in out and "@here" not in out and "<@&1" not in out
    assert "\\*\\*bold\\*\\*" in out


@pytest.mark.parametrize("text", ["[\\](0)", "a\\b", "**bold** _x_ `c` ~~s~~ > q", "[t](http://x)"])
def test_escaped_text_shows_exactly_as_written(text: str) -> None:
    assert unescape(embeds.escape(text)) == text
