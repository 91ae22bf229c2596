"""Answer → text for a terminal (span in colour) or a pipe (span in [brackets])."""

from __future__ import annotations

from rich.text import Text

from bot.models import Answer, Hit
from bot.render.clean import terminal_safe

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
