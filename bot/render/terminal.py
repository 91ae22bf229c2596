"""Answer → text for a terminal (span in colour) or a pipe (span in [brackets])."""

from __future__ import annotations

from rich.text import Text

from bot.models import Answer, Explanation, Hit
from bot.render.clean import terminal_safe
from bot.render.explain import decision, score_text

NOT_FOUND = "Not found in the documents."
_SNIPPET_CHARS = 240


def location(source: str, section: str | None, line: int) -> str:
    """``doc.txt › Section · line 9``: where a reader finds the passage."""
    parts = source if not section else f"{source} › {section}"
    return terminal_safe(f"{parts} · line {line}")


def _snippet(text: str, limit: int = _SNIPPET_CHARS) -> str:
    flat = " ".join(terminal_safe(text).split())
    if len(flat) <= limit:
        return flat
    cut = flat.rfind(" ", 0, limit)
    return flat[: cut if cut > limit // 2 else limit] + "…"


def _sources(hits: tuple[Hit, ...], color: bool) -> Text:
    out = Text()
    for h in hits:
        out.append(f"  {h.rank + 1}. ")
        out.append(location(h.chunk.source, h.chunk.section, h.chunk.line), "cyan" if color else "")
        out.append(f"  (score {h.score:.2f})\n", "dim" if color else "")
        out.append(f"     {_snippet(h.chunk.text)}\n")
    return out


def render_answer(answer: Answer, *, color: bool) -> Text:
    out = Text()
    if not answer.answered or not answer.citations or answer.sentence is None:
        out.append(NOT_FOUND + "\n", "bold" if color else "")
        if answer.sources:
            out.append("Nearest sources:\n")
            out.append(_sources(answer.sources, color))
        else:
            out.append("No passage shares a word with the question.\n", "dim" if color else "")
        return out
    cite = answer.citations[0]
    span = answer.span_in_sentence
    assert span is not None
    s, e = span
    sentence = answer.sentence
    # Each piece is cleaned on its own, so the span's offsets into the sentence stay true.
    before, span_text, after = (
        terminal_safe(t) for t in (sentence[:s], sentence[s:e], sentence[e:])
    )
    out.append(f"{terminal_safe(answer.answer or '')}\n", "bold green" if color else "")
    out.append("  " + before)
    if color:
        out.append(span_text, "bold black on yellow")
    else:
        out.append(f"[{span_text}]")
    out.append(after + "\n")
    out.append(f"  — {location(cite.source, cite.section, cite.line)}", "cyan" if color else "")
    out.append(f"  (confidence {answer.confidence:.2f})\n", "dim" if color else "")
    return out


EXPLAINED_CHUNKS = 5


def render_explanation(answer: Answer, ex: Explanation, *, color: bool) -> Text:
    """Why ``answer`` was given or withheld: the question's terms as matched, the chunks looked
    in, the span's score against the runner-up and the no-answer score, and the threshold."""
    dim = "dim" if color else ""
    out = Text()
    out.append("Why this answer\n", "bold" if color else "")
    out.append("  terms: ")
    for i, t in enumerate(ex.terms):
        if i:
            out.append(", ")
        used = t.corrected or t.term
        shown = t.word if t.word.casefold() == used else f"{t.word} → {used}"
        out.append(terminal_safe(shown), ("green" if t.found else "red") if color else "")
        if t.corrected:
            out.append(" (spelling corrected)", dim)
        if not t.found:
            out.append(" (not found)", dim)
    out.append("\n" if ex.terms else "(none: every word is a stop word)\n")
    out.append("  chunks (retrieval score):\n" if ex.chunks else "  chunks: none share a term\n")
    for h in ex.chunks[:EXPLAINED_CHUNKS]:
        out.append(f"    {h.rank + 1}. {location(h.chunk.source, h.chunk.section, h.chunk.line)}")
        out.append(f"  {h.score:.2f}\n", dim)
    if len(ex.chunks) > EXPLAINED_CHUNKS:
        out.append(f"    … and {len(ex.chunks) - EXPLAINED_CHUNKS} more\n", dim)
    out.append(f"  span score: {score_text(ex.score)}")
    if ex.runner_up is not None:
        out.append(" vs runner-up ")
        out.append(f"“{_snippet(ex.runner_up, 80)}”", dim)
        out.append(f" {score_text(ex.runner_up_score)}")
    out.append(f"\n  no-answer score: {score_text(ex.no_answer_score)}\n")
    out.append(f"  {decision(answer, ex)}\n")
    return out
